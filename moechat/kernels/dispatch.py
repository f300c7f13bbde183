"""Picks the implementation of each op: Triton kernels on CUDA where they exist, the torch reference elsewhere.

MOECHAT_KERNELS=torch forces the reference everywhere (the oracle path on a GPU).
"""

from __future__ import annotations

import os

import torch

from moechat.kernels.attention import paged_attention_ref
from moechat.kernels.moe import Routing, add_rmsnorm_route_ref, moe_ref
from moechat.kernels.norm import add_rmsnorm_ref, rmsnorm_ref
from moechat.kernels.rope import rope_write_kv_ref


def use_triton(device: torch.device) -> bool:
    return device.type == "cuda" and os.environ.get("MOECHAT_KERNELS", "triton") != "torch"


def _checkpoint_layout(weights: dict[str, torch.Tensor]) -> None:
    """The reference reads MXFP4 experts as the checkpoint stores them."""


class Ops:
    """The ops the model calls, bound once to one device: linear (the attention projections), rmsnorm,
    add_rmsnorm (residual add fused with the norm after it), rope_write_kv (RoPE on q and k, k and v stored in
    the pool; qkv_rope_write_kv: the qkv projection first), attention, add_rmsnorm_route (the residual add, the
    norm before the MoE and the route), moe, and moe_add_rmsnorm (the MoE, the residual add and the next norm);
    and lay_out_experts, which puts the loaded MXFP4 expert tensors in the layout these MoE kernels read."""

    def __init__(self, device: torch.device):
        self.triton = use_triton(device)
        self.linear = torch.nn.functional.linear
        self.rmsnorm = rmsnorm_ref
        self.add_rmsnorm = add_rmsnorm_ref
        self.rope_write_kv = rope_write_kv_ref
        self.attention = paged_attention_ref
        self.add_rmsnorm_route = add_rmsnorm_route_ref
        self._qkv_rope_write_kv = None
        self._moe_mxfp4 = moe_ref
        self.lay_out_experts = _checkpoint_layout
        if self.triton:
            # imported here so that CPU runs never import triton (tests pick the interpreter before they do)
            from moechat.kernels import attention_triton, linear_triton, moe_triton, norm_triton, rope_triton
            self.linear = linear_triton.linear
            self.rmsnorm = norm_triton.rmsnorm
            self.add_rmsnorm = norm_triton.add_rmsnorm
            self.rope_write_kv = rope_triton.rope_write_kv
            self.attention = attention_triton.paged_attention
            self.add_rmsnorm_route = moe_triton.add_rmsnorm_route
            self._qkv_rope_write_kv = linear_triton.qkv_rope_write_kv
            self._moe_mxfp4 = moe_triton.moe
            self._moe_add_rmsnorm = moe_triton.moe_add_rmsnorm
            self.lay_out_experts = moe_triton.lay_out_experts

    def qkv_rope_write_kv(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, q_heads: int,
                          cos: torch.Tensor, sin: torch.Tensor, positions: torch.Tensor, k_cache: torch.Tensor,
                          v_cache: torch.Tensor, slot_mapping: torch.Tensor) -> torch.Tensor:
        """q after RoPE [T, q_heads, D], k (rotated) and v stored in the pool's slots: linear(x, weight, bias) split
        into q, k and v, then rope_write_kv; one kernel for a few 16-bit rows on the Triton path."""
        T, (_, _, kv_heads, D) = x.shape[0], k_cache.shape
        if self._qkv_rope_write_kv is not None:
            q = self._qkv_rope_write_kv(x, weight, bias, q_heads, cos, sin, positions, k_cache, v_cache, slot_mapping)
            if q is not None:
                return q
        qkv = self.linear(x, weight, bias)
        qd, kd = q_heads * D, kv_heads * D
        q = qkv[:, :qd].view(T, q_heads, D)
        k = qkv[:, qd:qd + kd].view(T, kv_heads, D)
        v = qkv[:, qd + kd:].view(T, kv_heads, D)
        return self.rope_write_kv(q, k, v, cos, sin, positions, k_cache, v_cache, slot_mapping)

    def moe(self, x: torch.Tensor, weights: torch.Tensor, idx: torch.Tensor, experts: dict, limit: float):
        # the Triton MoE reads MXFP4; dense experts (unquantized checkpoints) stay on the reference
        if "w1_blocks" in experts:
            return self._moe_mxfp4(x, weights, idx, experts, limit)
        return moe_ref(x, weights, idx, experts, limit)

    def moe_add_rmsnorm(self, x: torch.Tensor, routing: Routing, experts: dict, limit: float,
                        residual: torch.Tensor, norm_w: torch.Tensor, eps: float):
        """add_rmsnorm(moe(x, ...), residual, norm_w, eps); the Triton path sums the k slots in the norm's pass."""
        if self.triton and "w1_blocks" in experts:
            return self._moe_add_rmsnorm(x, routing.weights, routing.experts, experts, limit, residual, norm_w, eps,
                                         routing.groups, routing.planes)
        return self.add_rmsnorm(self.moe(x, routing.weights, routing.experts, experts, limit), residual, norm_w, eps)
