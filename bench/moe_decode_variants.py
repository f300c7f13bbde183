"""Decode MoE tile variants in one process (H100): per-kernel profiler times and the whole call in a CUDA graph,
4 layers cycled, plus a raw read of the up GEMM's packed bytes in its tile pattern (no dequantization, no MMA)
as the memory system's ceiling for that pattern.
    python3 bench/moe_decode_variants.py [T ...] [--probe | --probe-only] [--blocked | --rows (one layout only)]
"""

from __future__ import annotations

import sys

import torch
import triton
import triton.language as tl

from moechat.kernels import moe_triton
from moechat.kernels.bench import (EXPERTS, HIDDEN, TOP_K, graph_us, kernel_us, random_experts, random_routes,
                                    relative_diff)


@triton.jit
def _read_tiles_kernel(w_ptr, out_ptr, K2, stride_e, stride_n, stride_step, stride_block,
                       BN: tl.constexpr, BKB: tl.constexpr):
    """XOR of a [BN, K2] tile of expert program_id(1), BKB bytes of each row per step: the up kernel's loads
    without its math. Row-major rows: stride_n = row bytes, stride_step = BKB. Tile-blocked (each step's
    [BN, BKB] piece contiguous): stride_n = BKB, stride_step = BN * BKB."""
    n = tl.arange(0, BN)
    base = (w_ptr + tl.program_id(1).to(tl.int64) * stride_e + tl.program_id(0) * stride_block
            + n[:, None] * stride_n + tl.arange(0, BKB)[None, :])
    acc = tl.zeros([BN, BKB], tl.int32)
    for step in range(0, K2 // BKB):
        acc ^= tl.load(base + step * stride_step).to(tl.int32)
    tl.store(out_ptr + tl.program_id(1) * 65536 + tl.program_id(0) * BN + n, tl.xor_sum(acc, axis=1))


def read_probe(layers: list[dict]) -> list[str]:
    out = torch.empty(4 * 65536, dtype=torch.int32, device="cuda")
    lines = []
    for bn, bkb, warps in ((64, 64, 4), (16, 256, 4), (32, 128, 4), (64, 128, 8), (64, 128, 4), (32, 64, 2)):
        for blocked in (False, True):
            calls = []
            for ex in layers:
                w = moe_triton.row_major(ex["w1_blocks"])
                E, N, G, _ = w.shape
                k2 = G * 16 - (G * 16) % bkb
                strides = (bkb, bn * bkb) if blocked else (w.stride(1), bkb)
                calls.append(lambda w=w, N=N, k2=k2, strides=strides: _read_tiles_kernel[(N // bn, 4)](
                    w, out, k2, w.stride(0), *strides, bn * G * 16, BN=bn, BKB=bkb, num_warps=warps, num_stages=3))
            us = graph_us(calls)
            nbytes = 4 * N * k2
            lines.append(f"read up bytes {'blocked' if blocked else 'rows'} BN={bn} BKB={bkb} w{warps}: {us:.1f} us, "
                         f"{nbytes / us * 1e-3:.0f} GB/s")
    return lines


def variants(T: int) -> list[tuple[dict, dict]]:
    """The default tiles at T tokens, then changes to the up or the down tile (a tile's keys override the default's).
    """
    up, down = moe_triton._configs(T * TOP_K, EXPERTS, torch.bfloat16, torch.device("cuda"))
    pairs = [({}, {})]
    if T <= 8:  # GEMV tiles (the 1-2 token default) against the default tiles
        gup, gdown = moe_triton._configs(moe_triton.GEMV_PAIRS, EXPERTS, torch.bfloat16, torch.device("cuda"))
        base = [(up, down)] if T <= 2 else [(up, down), (gup, gdown)]
        # up BN/BK/warps, then down: narrower rows give more one-warp programs; more warps need no barrier since
        # the activations come as planes in the weights' layout
        ups = [dict(GEMV=True, BN=bn, BK=bk, num_warps=w, num_stages=1) for bn, bk, w in
               ((8, 1024, 2), (4, 1024, 2), (4, 512, 1), (16, 512, 2))[:4 if T <= 2 else 2]]
        downs = [dict(GEMV=True, BN=bn, BK=bk, num_warps=w, num_stages=1) for bn, bk, w in
                 ((8, 1024, 2), (4, 1024, 2), (4, 512, 1))[:3 if T <= 2 else 2]]
        return base + [(c, gdown) for c in ups] + [(gup, c) for c in downs]
    if T >= 512:  # ~64-256 rows per expert: 64-row tiles waste less of an expert's last tile than 128-row ones
        mid = dict(BM=64, BN=128, BK=128, num_warps=4, num_stages=3, S32=True)
        pairs += [(mid, mid), (dict(mid, BN=256, num_warps=8), mid), (mid, {})]
    return [(dict(up, **u), dict(down, **d)) for u, d in pairs]


def main() -> None:
    probe_only = "--probe-only" in sys.argv
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or ([] if probe_only else [1, 8])
    layers = random_experts(4, blocked=True)
    if probe_only or "--probe" in sys.argv:
        print("\n".join(read_probe(layers)))
    row_layers = [dict(ex, **{k: moe_triton.row_major(ex[k]) for k in ("w1_blocks", "w2_blocks")}) for ex in layers]
    layouts = [(name, exs) for name, exs in (("blocked", layers), ("rows", row_layers))
               if f"--{name}" in sys.argv or not {"--blocked", "--rows"} & set(sys.argv)]
    for T in sizes:
        x = torch.randn(T, HIDDEN, device="cuda", dtype=torch.bfloat16)
        _, _, routes = random_routes(x, layers)
        first = None  # the default tiles' output on the first layer: every variant must give the same numbers
        for cfg in variants(T):
            for name, exs in layouts:
                calls = [lambda ex=ex, r=r: moe_triton.moe(x, r[0], r[1], ex, 7.0, configs=cfg)
                         for ex, r in zip(exs, routes)]
                try:
                    times = kernel_us(calls)
                    us = graph_us(calls)
                except Exception as e:  # a tile that does not fit
                    print(f"T={T} {cfg}: {type(e).__name__}: {str(e)[:80]}")
                    continue
                out = calls[0]().float()
                first = out if first is None else first
                err = relative_diff(out, first)
                parts = ", ".join(f"{k.strip('_').split('_kernel')[0]} {v:.1f}" for k, v in sorted(times.items())
                                  if "kernel" in k)
                print(f"T={T} {name} graph {us:.1f} us | {parts} | rel. diff {err:.1e} | up {cfg[0]} down {cfg[1]}")


if __name__ == "__main__":
    main()
