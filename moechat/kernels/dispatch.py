"""Picks the implementation of each op: Triton kernels on CUDA where they exist, the torch reference elsewhere.

MOECHAT_KERNELS=torch forces the reference everywhere (the oracle path on a GPU).
"""

from __future__ import annotations

import os

import torch

from moechat.kernels.attention import paged_attention_ref, write_kv_ref
from moechat.kernels.moe import moe_ref, route_ref
from moechat.kernels.norm import rmsnorm_ref
from moechat.kernels.rope import apply_rope_ref


def use_triton(device: torch.device) -> bool:
    return device.type == "cuda" and os.environ.get("MOECHAT_KERNELS", "triton") != "torch"


class Ops:
    """The ops the model calls, bound once to one device."""

    def __init__(self, device: torch.device):
        self.rmsnorm = rmsnorm_ref
        self.apply_rope = apply_rope_ref
        self.write_kv = write_kv_ref
        self.attention = paged_attention_ref
        self.route = route_ref
        self.moe = moe_ref
        self.triton = use_triton(device)
