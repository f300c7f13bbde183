"""RMSNorm and residual-add + RMSNorm in Triton (the added input may be the MoE's per-pair outputs, summed in
the same pass): one program per row, the whole row in registers."""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from moechat.kernels.pdl import launch_options, wait_for_previous


@triton.jit
def sum_pairs(y_ptr, t, n, mask, N, P, SPLIT: tl.constexpr, TOPK: tl.constexpr):
    """Token t's MoE output at columns n: the down GEMM's y [SPLIT, P, N] summed over K splits and the k slots
    in a fixed order (deterministic), in fp32."""
    acc = tl.zeros(n.shape, tl.float32)
    for sp in tl.static_range(SPLIT):
        for j in tl.static_range(TOPK):
            acc += tl.load(y_ptr + (sp * P + t * TOPK + j) * N + n, mask=mask, other=0.0).to(tl.float32)
    return acc


@triton.jit(do_not_specialize=["P"])
def _rmsnorm_kernel(x_ptr, res_ptr, w_ptr, out_ptr, sum_ptr, N, eps, P,
                    HAS_RES: tl.constexpr, SPLIT: tl.constexpr, TOPK: tl.constexpr, BLOCK: tl.constexpr,
                    PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < N
    if TOPK:  # x: the MoE's pair outputs, summed and rounded as moe() would return them
        x = sum_pairs(x_ptr, row, cols, mask, N, P, SPLIT, TOPK).to(out_ptr.dtype.element_ty)
    else:
        x = tl.load(x_ptr + row * N + cols, mask=mask, other=0.0)
    if HAS_RES:
        # Round the sum to the activation dtype first, as the reference's x + residual does.
        x = x + tl.load(res_ptr + row * N + cols, mask=mask, other=0.0)
        tl.store(sum_ptr + row * N + cols, x, mask=mask)
    t = x.to(tl.float32)
    rstd = tl.rsqrt(tl.sum(t * t, axis=0) / N + eps)
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    tl.store(out_ptr + row * N + cols, (t * rstd * w).to(out_ptr.dtype.element_ty), mask=mask)


def _launch(x: torch.Tensor, residual: torch.Tensor | None, weight: torch.Tensor, eps: float, top_k: int = 0):
    x = x.contiguous()
    N = x.shape[-1]
    split, pairs = (x.shape[0], x.shape[1]) if top_k else (1, 0)
    rows = pairs // top_k if top_k else (x.numel() // N if N else 0)
    out = torch.empty_like(residual if top_k else x)
    total = torch.empty_like(out) if residual is not None else out
    if rows:
        block = triton.next_power_of_2(N)
        _rmsnorm_kernel[(rows,)](x, residual.contiguous() if residual is not None else x, weight, out, total, N, eps,
                                 pairs, HAS_RES=residual is not None, SPLIT=split, TOPK=top_k, BLOCK=block,
                                 num_warps=4 if block <= 4096 else 8, **launch_options(x.device))
    return out, total


def rmsnorm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return _launch(x, None, weight, eps)[0]


def add_rmsnorm(x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float, top_k: int = 0):
    """(rmsnorm(x + residual), x + residual), one pass over memory. top_k > 0: x is the MoE's pair outputs
    [K splits, T * top_k, N] (moe_triton.moe_pairs), summed in that same pass."""
    return _launch(x, residual, weight, eps, top_k)
