"""One-row GEMV tiles of the attention projections (gpt-oss-20b's qkv and o-projection, bf16) beyond the session-3
sweep: longer K steps (fewer round trips per program), narrower and wider bands, one-warp programs (session 6:
one warp per program sped up the MoE's GEMV). Graph-replay microseconds, 4 weights cycled; cuBLAS for reference.
    PYTHONPATH=$PWD python3 bench/gemv_sweep.py"""

from __future__ import annotations

import torch

from moechat.kernels import linear_triton
from moechat.kernels.bench import graph_us, projections


def main() -> None:
    for name, x, ws, b in projections(1):
        N, K = ws[0].shape
        us = graph_us([lambda w=w: torch.nn.functional.linear(x, w, b) for w in ws])
        print(f"{name} cuBLAS: {us:.1f} us")
        current = linear_triton._config(1, K)
        for cfg in [current] + [dict(BN=bn, BK=bk, num_warps=w) for bn in (1, 2, 4, 8) for bk in (512, 1024, 2048)
                                for w in (1, 2) if bk <= 2 * K]:
            try:
                us = graph_us([lambda w=w: linear_triton.linear(x, w, b, cfg) for w in ws])
            except Exception as e:  # too many registers or shared memory
                print(f"{name} {cfg}: {type(e).__name__}")
                continue
            mark = " (current)" if cfg is current else ""
            print(f"{name} {cfg}: {us:.1f} us, {ws[0].numel() * 2 / us * 1e-3:.0f} GB/s{mark}")


if __name__ == "__main__":
    main()
