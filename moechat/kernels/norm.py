"""RMSNorm, optionally fused with the residual add: torch reference."""

from __future__ import annotations

import torch


def rmsnorm_ref(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    t = x.float()
    t = t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps)
    return (t * weight.float()).to(x.dtype)


def add_rmsnorm_ref(x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float):
    """(rmsnorm(x + residual), x + residual): the new residual stream and its normalized copy."""
    s = x + residual
    return rmsnorm_ref(s, weight, eps), s
