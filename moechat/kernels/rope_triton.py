"""RoPE (halves rotation) in Triton, alone or fused with the KV-cache write: one program per token, all heads."""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from moechat.kernels.pdl import launch_options, wait_for_previous


@triton.jit
def _rotate(src_ptr, src_head_stride, dst_ptr, dst_head_stride, heads, c, s,
            HALF: tl.constexpr, BLOCK_H: tl.constexpr):
    """Rotate `heads` rows of one token: x1' = x1 c - x2 s, x2' = x2 c + x1 s (c, s: [HALF] fp32)."""
    h = tl.arange(0, BLOCK_H)[:, None]
    d = tl.arange(0, HALF)[None, :]
    mask = h < heads
    src = src_ptr + h * src_head_stride + d
    x1 = tl.load(src, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(src + HALF, mask=mask, other=0.0).to(tl.float32)
    dst = dst_ptr + h * dst_head_stride + d
    ty = dst_ptr.dtype.element_ty
    tl.store(dst, (x1 * c - x2 * s).to(ty), mask=mask)
    tl.store(dst + HALF, (x2 * c + x1 * s).to(ty), mask=mask)


@triton.jit
def _rope_kernel(x_ptr, x_tok_stride, x_head_stride, out_ptr, cos_ptr, sin_ptr, pos_ptr, heads,
                 HALF: tl.constexpr, BLOCK_H: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    t = tl.program_id(0).to(tl.int64)
    pos = tl.load(pos_ptr + t).to(tl.int64)
    c = tl.load(cos_ptr + pos * HALF + tl.arange(0, HALF))[None, :]
    s = tl.load(sin_ptr + pos * HALF + tl.arange(0, HALF))[None, :]
    _rotate(x_ptr + t * x_tok_stride, x_head_stride, out_ptr + t * heads * 2 * HALF, 2 * HALF, heads, c, s,
            HALF, BLOCK_H)


@triton.jit
def _rope_write_kv_kernel(q_ptr, q_tok_stride, q_head_stride, k_ptr, k_tok_stride, k_head_stride,
                          v_ptr, v_tok_stride, v_head_stride, q_out_ptr, k_cache_ptr, v_cache_ptr, slot_ptr,
                          cos_ptr, sin_ptr, pos_ptr, q_heads, kv_heads,
                          HALF: tl.constexpr, BLOCK_HQ: tl.constexpr, BLOCK_HKV: tl.constexpr,
                          PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    t = tl.program_id(0).to(tl.int64)
    pos = tl.load(pos_ptr + t).to(tl.int64)
    c = tl.load(cos_ptr + pos * HALF + tl.arange(0, HALF))[None, :]
    s = tl.load(sin_ptr + pos * HALF + tl.arange(0, HALF))[None, :]
    D: tl.constexpr = 2 * HALF
    _rotate(q_ptr + t * q_tok_stride, q_head_stride, q_out_ptr + t * q_heads * D, D, q_heads, c, s, HALF, BLOCK_HQ)
    slot = tl.load(slot_ptr + t).to(tl.int64)
    _rotate(k_ptr + t * k_tok_stride, k_head_stride, k_cache_ptr + slot * kv_heads * D, D, kv_heads, c, s,
            HALF, BLOCK_HKV)
    h = tl.arange(0, BLOCK_HKV)[:, None]
    d = tl.arange(0, D)[None, :]
    v = tl.load(v_ptr + t * v_tok_stride + h * v_head_stride + d, mask=h < kv_heads)
    tl.store(v_cache_ptr + slot * kv_heads * D + h * D + d, v.to(v_cache_ptr.dtype.element_ty), mask=h < kv_heads)


def _check(x: torch.Tensor) -> None:
    assert x.stride(-1) == 1, "head_dim must be contiguous"


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """x [T, heads, head_dim] (any token/head strides) -> rotated contiguous copy."""
    _check(x)
    T, heads, D = x.shape
    out = torch.empty((T, heads, D), dtype=x.dtype, device=x.device)
    if T:
        _rope_kernel[(T,)](x, x.stride(0), x.stride(1), out, cos, sin, positions, heads,
                           HALF=D // 2, BLOCK_H=triton.next_power_of_2(heads), **launch_options(x.device))
    return out


def rope_write_kv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                  positions: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                  slot_mapping: torch.Tensor) -> torch.Tensor:
    """Rotate q and k, store rotated k and v into their pool slots; returns rotated q. One pass."""
    for t in (q, k, v):
        _check(t)
    T, q_heads, D = q.shape
    kv_heads = k.shape[1]
    assert k_cache.is_contiguous() and v_cache.is_contiguous()
    q_out = torch.empty((T, q_heads, D), dtype=q.dtype, device=q.device)
    if T:
        _rope_write_kv_kernel[(T,)](q, q.stride(0), q.stride(1), k, k.stride(0), k.stride(1), v, v.stride(0),
                                    v.stride(1), q_out, k_cache, v_cache, slot_mapping, cos, sin, positions,
                                    q_heads, kv_heads, HALF=D // 2, BLOCK_HQ=triton.next_power_of_2(q_heads),
                                    BLOCK_HKV=triton.next_power_of_2(kv_heads), **launch_options(q.device))
    return q_out
