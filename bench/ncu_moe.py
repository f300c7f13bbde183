"""The MoE kernels at decode sizes, one tile choice: per-kernel times (torch profiler), or under Nsight Compute
(--ncu: launches only, no CUDA graph, so each launch is its own kernel):
    python3 bench/ncu_moe.py 1 --up '{"BN": 32}' --down '{"SPLIT": 2}'
    ncu --kernel-name regex:_moe_up_kernel --launch-skip 6 --launch-count 1 python3 bench/ncu_moe.py 1 --ncu
The JSON objects change the default up and down tiles at T tokens (gpt-oss-20b-sized random experts)."""

from __future__ import annotations

import argparse
import json

import torch

from moechat.kernels import moe_triton
from moechat.kernels.bench import EXPERTS, HIDDEN, kernel_us, random_experts, random_routes

p = argparse.ArgumentParser()
p.add_argument("T", type=int, nargs="?", default=1)
p.add_argument("--up", type=json.loads, default={})
p.add_argument("--down", type=json.loads, default={})
p.add_argument("--ncu", action="store_true")
a = p.parse_args()
layers = random_experts(1)
x = torch.randn(a.T, HIDDEN, device="cuda", dtype=torch.bfloat16)
_, _, routes = random_routes(x, layers)
up, down = moe_triton._configs(a.T * 4, EXPERTS, x.dtype, x.device)
configs = (dict(up, **a.up), dict(down, **a.down))


def run():
    moe_triton.moe(x, routes[0][0], routes[0][1], layers[0], 7.0, configs=configs)


if a.ncu:
    for _ in range(10):
        run()
    torch.cuda.synchronize()
else:
    times = kernel_us([run], iters=5)
    print(f"T={a.T} {a.up} {a.down}: " + ", ".join(f"{k[4:12]} {v:.1f}" for k, v in sorted(times.items())
                                                   if "_moe" in k))
