"""Mixture of experts on MXFP4 weights: routing, dequantization and the expert MLPs, torch reference.

MXFP4 as stored by gpt-oss: blocks [..., G, 16] uint8 hold 32 fp4 values per group (low nibble first),
scales [..., G] uint8 are e8m0 exponents: value = fp4 * 2^(scale - 127).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from moechat.kernels.norm import add_rmsnorm_ref

FP4_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)
SWIGLU_ALPHA = 1.702


def dequant_mxfp4(blocks: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[..., G, 16] uint8 + [..., G] uint8 -> [..., G * 32] of dtype."""
    lut = torch.tensor(FP4_VALUES, dtype=torch.float32, device=blocks.device)
    lo = lut[(blocks & 0x0F).long()]
    hi = lut[(blocks >> 4).long()]
    vals = torch.stack([lo, hi], dim=-1).flatten(-2)  # [..., G, 32]
    vals = torch.ldexp(vals, scales.to(torch.int32)[..., None] - 127)
    return vals.flatten(-2).to(dtype)


def route_ref(x: torch.Tensor, router_w: torch.Tensor, router_b: torch.Tensor, top_k: int):
    """Top-k of the raw router logits, softmax over those k. Returns (weights fp32 [T,k], experts int [T,k])."""
    logits = torch.nn.functional.linear(x, router_w, router_b)
    vals, idx = torch.topk(logits, top_k, dim=-1, sorted=True)
    return torch.softmax(vals.float(), dim=-1), idx


class Routing(NamedTuple):
    """A batch's route: each token's k routing weights (fp32 [T, k]) and experts ([T, k]); groups, when the
    route kernel also grouped the (token, slot) pairs by expert: (pairs per expert, pair ids in expert order);
    planes, when it also stored the normed input as the Triton decode GEMVs' activation planes."""

    weights: torch.Tensor
    experts: torch.Tensor
    groups: tuple[torch.Tensor, torch.Tensor] | None = None
    planes: torch.Tensor | None = None


def add_rmsnorm_route_ref(x: torch.Tensor, residual: torch.Tensor, norm_w: torch.Tensor, eps: float,
                          router_w: torch.Tensor, router_b: torch.Tensor, top_k: int):
    """(h, x + residual, Routing of h) with h = rmsnorm(x + residual): the residual add, the norm before the MoE
    and the route (moe_triton.add_rmsnorm_route's reference)."""
    h, total = add_rmsnorm_ref(x, residual, norm_w, eps)
    return h, total, Routing(*route_ref(h, router_w, router_b, top_k))


def swiglu_ref(h: torch.Tensor, limit: float) -> torch.Tensor:
    """h [..., 2I] with gate/up interleaved (even = gate, odd = up)."""
    gate, up = h[..., 0::2], h[..., 1::2]
    gate = gate.clamp(max=limit)
    up = up.clamp(-limit, limit)
    return gate * torch.sigmoid(SWIGLU_ALPHA * gate) * (up + 1)


def expert_weight(experts: dict, name: str, e: int, dtype: torch.dtype) -> torch.Tensor:
    """Expert e's weight `name` ("w1" [2I, H] or "w2" [H, I]) as a dense matrix."""
    if name in experts:
        return experts[name][e].to(dtype)
    return dequant_mxfp4(experts[name + "_blocks"][e], experts[name + "_scales"][e], dtype)


def moe_ref(x: torch.Tensor, weights: torch.Tensor, idx: torch.Tensor, experts: dict, limit: float) -> torch.Tensor:
    """x [T, H] normalized input; weights/idx [T, k] from routing; experts holds w1*/w2* and biases."""
    out = torch.zeros(x.shape, dtype=torch.float32, device=x.device)
    dtype = x.dtype
    for e in torch.unique(idx).tolist():
        tok, slot = (idx == e).nonzero(as_tuple=True)
        w1 = expert_weight(experts, "w1", e, dtype)
        w2 = expert_weight(experts, "w2", e, dtype)
        h = torch.nn.functional.linear(x[tok], w1, experts["w1_bias"][e])
        h = swiglu_ref(h, limit)
        y = torch.nn.functional.linear(h, w2, experts["w2_bias"][e])
        out.index_add_(0, tok, y.float() * weights[tok, slot, None])
    return out.to(x.dtype)


def pad_scale_rows(scales: torch.Tensor) -> torch.Tensor:
    """The same [E, N, G] e8m0 scales as a view into rows padded with zeros to a multiple of 4 bytes, so the
    kernels read them as aligned 32-bit words (a tile's scale loads then pipeline like its weight loads)."""
    E, N, G = scales.shape
    if G % 4 == 0 and scales.is_contiguous():
        return scales
    rows = torch.zeros((E, N, -(-G // 4) * 4), dtype=scales.dtype, device=scales.device)
    rows[..., :G] = scales
    return rows[..., :G]
