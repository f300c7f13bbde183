"""Linear layers for decode-sized batches in Triton: out = x @ W^T + b for x [M, K] (M <= 8), W [N, K] in bf16.

cuBLAS runs gpt-oss-20b's o-projection at one row as a split-K GEMM plus a reduce kernel (13.6 us for 23.6 MB,
1.7 TB/s on an H100). One row: each program streams a few weight rows with CUDA-core FMAs (one row of x needs no
tensor cores) and many programs keep the memory system busy. A few rows: each program streams a narrow band of
weight rows through the tensor cores as the MMA's wide operand, the rows of x padded to its narrow side. fp32
accumulation, bias added before the rounding, as cuBLAS does. The reference is torch.nn.functional.linear.
qkv_rope_write_kv runs the qkv projection with RoPE and the KV-cache write in its epilogue (each program owns
whole rotation pairs of rows); its reference is linear then rope.rope_write_kv_ref.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from moechat.kernels.attention_triton import mma_precision
from moechat.kernels.pdl import launch_options, wait_for_previous

MAX_ROWS = 8  # more rows go to cuBLAS
# the few-row MMA band's tile: the o-projection's, and a few tokens' qkv projection with RoPE (alone, qkv ran
# 14.1 us in it against cuBLAS's 13.5; with the rope kernel's 2.6 us saved it is ahead)
ROWS_TILE = dict(BM=16, BN=16, BK=256, num_warps=2, num_stages=4)


@triton.jit
def _first_weights(w_ptr, n, nmask, stride_w, BK: tl.constexpr):
    """The BN weight rows n's first K step (BK <= K: _gemv_tile), for _gemv_rows. The weights are constant, so the
    kernels load them before they wait for the previous kernel (PDL): that memory round trip then overlaps the
    previous kernel's end (H200 decode step, session 18: qkv 9.39 -> 9.31 us, o-projection 7.85 -> 7.79; the same
    for the one-token down GEMV, whose first weights wait on the route's idx, was 0.25 us slower)."""
    return tl.load(w_ptr + n[:, None].to(tl.int64) * stride_w + tl.arange(0, BK)[None, :], mask=nmask[:, None],
                   other=0.0)


@triton.jit
def _gemv_rows(x_ptr, w_ptr, w_first, n, nmask, K, stride_w, BN: tl.constexpr, BK: tl.constexpr):
    """x [K] . W[n] for the BN weight rows n -> fp32 [BN]; w_first: _first_weights' step."""
    rows = w_ptr + n[:, None].to(tl.int64) * stride_w
    acc = w_first.to(tl.float32) * tl.load(x_ptr + tl.arange(0, BK)).to(tl.float32)[None, :]
    k_full = K // BK * BK
    for k0 in range(BK, k_full, BK):  # whole tiles: no mask along K, so the loads stay 16-byte vectors
        kk = k0 + tl.arange(0, BK)
        w = tl.load(rows + kk[None, :], mask=nmask[:, None], other=0.0)
        acc += w.to(tl.float32) * tl.load(x_ptr + kk).to(tl.float32)[None, :]
    if k_full < K:
        kk = k_full + tl.arange(0, BK)
        kmask = kk < K
        w = tl.load(rows + kk[None, :], mask=nmask[:, None] & kmask[None, :], other=0.0)
        acc += w.to(tl.float32) * tl.load(x_ptr + kk, mask=kmask, other=0.0).to(tl.float32)[None, :]
    return tl.sum(acc, axis=1)


@triton.jit
def _gemv_kernel(x_ptr, w_ptr, b_ptr, out_ptr, N, K, stride_w, HAS_BIAS: tl.constexpr, BN: tl.constexpr,
                 BK: tl.constexpr, PDL: tl.constexpr = False):
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    w_first = _first_weights(w_ptr, n, nmask, stride_w, BK)
    wait_for_previous(PDL)
    out = _gemv_rows(x_ptr, w_ptr, w_first, n, nmask, K, stride_w, BN, BK)
    if HAS_BIAS:
        out += tl.load(b_ptr + n, mask=nmask, other=0.0).to(tl.float32)
    tl.store(out_ptr + n, out.to(out_ptr.dtype.element_ty), mask=nmask)


@triton.jit
def _rows_step(acc, x_ptr, rows, k0, K, stride_x, m, mmask, nmask, BK: tl.constexpr, PREC: tl.constexpr,
               MASK_K: tl.constexpr):
    kk = k0 + tl.arange(0, BK)
    wmask = nmask[:, None]
    xmask = mmask[:, None]
    if MASK_K:
        wmask &= (kk < K)[None, :]
        xmask &= (kk < K)[None, :]
    w = tl.load(rows + kk[None, :], mask=wmask, other=0.0)
    x = tl.load(x_ptr + m[:, None] * stride_x + kk[None, :], mask=xmask, other=0.0)
    return tl.dot(w, tl.trans(x), acc, input_precision=PREC)


@triton.jit
def _rows_matmul(x_ptr, w_ptr, n, nmask, m, mmask, K, stride_x, stride_w, BM: tl.constexpr, BN: tl.constexpr,
                 BK: tl.constexpr, PREC: tl.constexpr):
    """acc [BN, BM] = W[n] @ x[m]^T (fp32): the weight band is the MMA's first operand, x's few rows the narrow
    second."""
    rows = w_ptr + n[:, None].to(tl.int64) * stride_w
    acc = tl.zeros([BN, BM], tl.float32)
    k_full = K // BK * BK
    for k0 in range(0, k_full, BK):
        acc = _rows_step(acc, x_ptr, rows, k0, K, stride_x, m, mmask, nmask, BK, PREC, False)
    if k_full < K:
        acc = _rows_step(acc, x_ptr, rows, k_full, K, stride_x, m, mmask, nmask, BK, PREC, True)
    return acc


@triton.jit(do_not_specialize=["M"])
def _rows_kernel(x_ptr, w_ptr, b_ptr, out_ptr, M, N, K, stride_x, stride_w, HAS_BIAS: tl.constexpr,
                 BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    m = tl.arange(0, BM)
    mmask = m < M
    acc = _rows_matmul(x_ptr, w_ptr, n, nmask, m, mmask, K, stride_x, stride_w, BM, BN, BK, PREC)
    if HAS_BIAS:
        acc += tl.load(b_ptr + n, mask=nmask, other=0.0).to(tl.float32)[:, None]
    tl.store(out_ptr + m[None, :] * N + n[:, None], acc.to(out_ptr.dtype.element_ty),
             mask=nmask[:, None] & mmask[None, :])


@triton.jit
def _pairs(PAIRS: tl.constexpr, HALF: tl.constexpr):
    """(first rows n1 [PAIRS], all rows n [2 * PAIRS]: the n1 then n1 + HALF) of this program's rotation pairs:
    rows i and i + HALF of a head (q, k and v heads alike)."""
    j = tl.program_id(0) * PAIRS + tl.arange(0, PAIRS)
    n1 = j // HALF * (2 * HALF) + j % HALF
    return n1, (tl.arange(0, 2)[:, None] * HALF + n1[None, :]).reshape([2 * PAIRS])


@triton.jit
def _rope_store(out, n1, m, mmask, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr, sin_ptr, QD, KD,
                PAIRS: tl.constexpr, BM: tl.constexpr, HALF: tl.constexpr):
    """The qkv projection's rows _pairs gave (out [2 * PAIRS, BM] fp32, bias added) for tokens m: rounded as the
    projection's output is, q and k rows rotated by each token's position, q rows stored to q [tokens, QD], k and
    v rows to the token's pool slot."""
    ty = q_ptr.dtype.element_ty
    x1, x2 = out.to(ty).to(tl.float32).reshape([2, PAIRS, BM]).permute(1, 2, 0).split()
    pos = tl.load(pos_ptr + m, mask=mmask, other=0).to(tl.int64)[None, :]
    i = (n1 % HALF)[:, None]
    c = tl.load(cos_ptr + pos * HALF + i)
    s = tl.load(sin_ptr + pos * HALF + i)
    rot = (n1 < QD + KD)[:, None]  # q and k rows; v rows pass through
    y1 = tl.where(rot, x1 * c - x2 * s, x1).to(ty)
    y2 = tl.where(rot, x2 * c + x1 * s, x2).to(ty)
    tok = mmask[None, :]
    is_q = (n1 < QD)[:, None] & tok
    q_row = q_ptr + m[None, :].to(tl.int64) * QD + n1[:, None]
    tl.store(q_row, y1, mask=is_q)
    tl.store(q_row + HALF, y2, mask=is_q)
    row = tl.load(slot_ptr + m, mask=mmask, other=0).to(tl.int64)[None, :] * KD + (n1 - QD)[:, None]
    is_k = rot & ~is_q & tok
    tl.store(k_cache_ptr + row, y1, mask=is_k)
    tl.store(k_cache_ptr + row + HALF, y2, mask=is_k)
    is_v = ~rot & tok
    tl.store(v_cache_ptr + row - KD, y1, mask=is_v)
    tl.store(v_cache_ptr + row - KD + HALF, y2, mask=is_v)


@triton.jit
def _qkv_rope_gemv_kernel(x_ptr, w_ptr, b_ptr, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr,
                          sin_ptr, K, stride_w, QD, KD, HALF: tl.constexpr, PAIRS: tl.constexpr, BK: tl.constexpr,
                          PDL: tl.constexpr = False):
    """One token: each program computes PAIRS rotation pairs with the GEMV, then _rope_store."""
    n1, n = _pairs(PAIRS, HALF)
    w_first = _first_weights(w_ptr, n, n >= 0, stride_w, BK)
    wait_for_previous(PDL)
    out = _gemv_rows(x_ptr, w_ptr, w_first, n, n >= 0, K, stride_w, 2 * PAIRS, BK) + tl.load(b_ptr + n).to(tl.float32)
    m = tl.arange(0, 1)
    _rope_store(out[:, None], n1, m, m < 1, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr, sin_ptr,
                QD, KD, PAIRS, 1, HALF)


@triton.jit(do_not_specialize=["M"])
def _qkv_rope_rows_kernel(x_ptr, w_ptr, b_ptr, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr,
                          sin_ptr, M, K, stride_x, stride_w, QD, KD, HALF: tl.constexpr, BM: tl.constexpr,
                          BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr, PDL: tl.constexpr = False):
    """A few tokens: each program's weight band is BN / 2 rotation pairs through the MMA, then _rope_store."""
    wait_for_previous(PDL)
    n1, n = _pairs(BN // 2, HALF)
    m = tl.arange(0, BM)
    mmask = m < M
    acc = _rows_matmul(x_ptr, w_ptr, n, n >= 0, m, mmask, K, stride_x, stride_w, BM, BN, BK, PREC)
    acc += tl.load(b_ptr + n).to(tl.float32)[:, None]
    _rope_store(acc, n1, m, mmask, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr, sin_ptr, QD, KD,
                BN // 2, BM, HALF)


def _config(M: int, K: int) -> dict | None:
    """Tiles from `python -m moechat.kernels.bench --sweep decode` on an H100 (bench/NOTES.md): one row, a wider
    K step for the longer rows of the o-projection (10.5 us against 11.0) and 2-row bands for qkv (12.5 against
    12.8). A few rows: a 16-row weight band through the tensor cores beats cuBLAS on the o-projection's long rows
    (8 rows: 11.5 against 13.6 us) but not on qkv's (14.1 against 13.5): None, cuBLAS."""
    if M == 1:
        return dict(BN=4, BK=1024, num_warps=2) if K >= 4096 else dict(BN=2, BK=512, num_warps=2)
    return ROWS_TILE if K >= 4096 else None


def _gemv_tile(config: dict, K: int) -> dict:
    """A GEMV tile whose first K step is whole (_first_weights): BK at most K's largest power of two."""
    return dict(config, BK=min(config["BK"], 1 << (K.bit_length() - 1)))


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           config: dict | None = None) -> torch.Tensor:
    """Same contract as torch.nn.functional.linear; up to MAX_ROWS rows of 16-bit activations take the Triton
    kernels where _config has a tile for them (the GEMV, or the MMA band when the tile names BM), anything else
    F.linear. `config` overrides the tile (benchmark sweeps)."""
    M, K = x.shape
    cfg = config or (_config(M, K) if 1 <= M <= MAX_ROWS else None)
    if cfg is None or K == 0 or x.dtype not in (torch.bfloat16, torch.float16) or weight.stride(1) != 1:
        return torch.nn.functional.linear(x, weight, bias)
    N = weight.shape[0]
    x = x.contiguous()
    out = torch.empty((M, N), dtype=x.dtype, device=x.device)
    b = bias if bias is not None else weight
    if "BM" in cfg:
        _rows_kernel[(triton.cdiv(N, cfg["BN"]),)](x, weight, b, out, M, N, K, x.stride(0), weight.stride(0),
                                                    HAS_BIAS=bias is not None, PREC=mma_precision(x.dtype), **cfg,
                                                    **launch_options(x.device))
    else:
        _gemv_kernel[(triton.cdiv(N, cfg["BN"]),)](x, weight, b, out, N, K, weight.stride(0),
                                                    HAS_BIAS=bias is not None, **_gemv_tile(cfg, K),
                                                    **launch_options(x.device))
    return out


def qkv_rope_write_kv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, q_heads: int, cos: torch.Tensor,
                      sin: torch.Tensor, positions: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                      slot_mapping: torch.Tensor) -> torch.Tensor | None:
    """1 to MAX_ROWS tokens (x [T, K], 16-bit): q after RoPE [T, q_heads, D], with k (rotated) and v stored into
    the tokens' pool slots, in one kernel: the same as linear(x, weight, bias) split into q, k and v, then
    rope_triton.rope_write_kv (whose kernel it saves: 2.6 us a layer on an H100). None where it does not apply
    (more rows, other dtypes): the caller takes the two-kernel path."""
    T, K = x.shape
    _, _, kv_heads, D = k_cache.shape
    if not 1 <= T <= MAX_ROWS or K == 0 or x.dtype not in (torch.bfloat16, torch.float16) or weight.stride(1) != 1:
        return None
    assert k_cache.is_contiguous() and v_cache.is_contiguous() and weight.shape[0] == (q_heads + 2 * kv_heads) * D
    q = torch.empty((T, q_heads, D), dtype=x.dtype, device=x.device)
    x = x.contiguous()
    common = (k_cache, v_cache, slot_mapping, positions, cos, sin)
    pairs = weight.shape[0] // 2
    if T == 1:
        cfg = _gemv_tile(_config(1, K), K)
        per = cfg["BN"] // 2
        assert pairs % per == 0
        _qkv_rope_gemv_kernel[(pairs // per,)](
            x, weight, bias, q, *common, K, weight.stride(0), q_heads * D, kv_heads * D, HALF=D // 2, PAIRS=per,
            BK=cfg["BK"], num_warps=cfg["num_warps"], **launch_options(x.device))
    else:
        cfg = ROWS_TILE
        assert pairs % (cfg["BN"] // 2) == 0
        _qkv_rope_rows_kernel[(pairs // (cfg["BN"] // 2),)](
            x, weight, bias, q, *common, T, K, x.stride(0), weight.stride(0), q_heads * D, kv_heads * D, HALF=D // 2,
            PREC=mma_precision(x.dtype), **cfg, **launch_options(x.device))
    return q
