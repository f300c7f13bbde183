"""The MoE kernels at decode sizes for Nsight Compute (no CUDA graph, so each launch is its own kernel):
    ncu --kernel-name regex:_moe_up_kernel --launch-skip 6 --launch-count 1 --section ... python3 bench/ncu_moe.py 1
Runs moe() at T tokens (argument, default 1) on gpt-oss-20b-sized random experts ten times."""

from __future__ import annotations

import sys

import torch

from moechat.kernels import moe_triton
from moechat.kernels.bench import HIDDEN, random_experts, random_routes

T = int(sys.argv[1]) if len(sys.argv) > 1 else 1
layers = random_experts(1)
x = torch.randn(T, HIDDEN, device="cuda", dtype=torch.bfloat16)
_, _, routes = random_routes(x, layers)
for _ in range(10):
    moe_triton.moe(x, routes[0][0], routes[0][1], layers[0], 7.0)
torch.cuda.synchronize()
