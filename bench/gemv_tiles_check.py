"""The decode GEMV tiles of test_gpu_moe_tiles_and_dequant alone (row-major and block_rows' layout) against the
reference at real sizes, T=1 and 4: a short GPU check when the whole test does not fit the device time left.
    PYTHONPATH=$PWD python3 bench/gemv_tiles_check.py"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from moechat.kernels import moe_triton  # noqa: E402
from moechat.kernels.moe import moe_ref  # noqa: E402
from moechat.kernels.moe_triton import moe, route  # noqa: E402
from test_kernels_moe import GEMV_TILES, LIMIT, real_size_inputs  # noqa: E402

for T in (1, 4):
    experts, x, router_w, router_b, k = real_size_inputs(T, torch.Generator().manual_seed(7 + T))
    weights, idx = route(x, router_w, router_b, k)
    ref = moe_ref(x, weights, idx.long(), experts, LIMIT).float()
    blocked = dict(experts, **{k: moe_triton.block_rows(experts[k]) for k in ("w1_blocks", "w2_blocks")})
    for bn, bk, warps, pipe in GEMV_TILES:
        cfg = dict(GEMV=True, num_stages=1, BN=bn, BK=bk, num_warps=warps, PIPE=pipe)
        for name, ex in (("rows", experts), ("blocked", blocked)):
            out = moe(x, weights, idx, ex, LIMIT, configs=(cfg, cfg)).float()
            err = ((out - ref).abs().max() / ref.abs().max()).item()
            print(f"T={T} {bn}/{bk}/{warps} PIPE {pipe} {name}: rel. diff {err:.1e}", "ok" if err < 2e-2 else "FAIL")
