"""Decode MoE tile variants in one process (H100): per-kernel profiler times and the whole call in a CUDA graph,
4 layers cycled, plus a raw read of the up GEMM's packed bytes in its tile pattern (no dequantization, no MMA)
as the memory system's ceiling for that pattern.
    python3 bench/moe_decode_variants.py [T ...] [--probe-only]
"""

from __future__ import annotations

import sys

import torch
import triton
import triton.language as tl

from moechat.kernels import moe_triton
from moechat.kernels.bench import EXPERTS, HIDDEN, TOP_K, graph_us, kernel_us, random_experts, random_routes


@triton.jit
def _read_tiles_kernel(w_ptr, out_ptr, K2, stride_e, stride_n, BN: tl.constexpr, BKB: tl.constexpr):
    """XOR of rows n, all K2 bytes of expert program_id(1): the up kernel's loads without its math."""
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    base = w_ptr + tl.program_id(1).to(tl.int64) * stride_e + n[:, None] * stride_n
    acc = tl.zeros([BN, BKB], tl.int32)
    for k0 in range(0, K2, BKB):
        acc ^= tl.load(base + k0 + tl.arange(0, BKB)[None, :]).to(tl.int32)
    tl.store(out_ptr + tl.program_id(1) * 65536 + n, tl.xor_sum(acc, axis=1))


@triton.jit
def _read_contiguous_kernel(w_ptr, out_ptr, n_bytes, stride_e, STEP: tl.constexpr):
    """XOR of one CTA's share of expert program_id(1), read as one contiguous stream STEP bytes at a time: the
    same bytes as a tile of rows, laid out tile by tile."""
    share = n_bytes // tl.num_programs(0)
    base = w_ptr + tl.program_id(1).to(tl.int64) * stride_e + tl.program_id(0) * share
    acc = tl.zeros([STEP], tl.int32)
    for k0 in range(0, share - STEP + 1, STEP):
        acc ^= tl.load(base + k0 + tl.arange(0, STEP)).to(tl.int32)
    tl.store(out_ptr + tl.program_id(1) * 65536 + tl.program_id(0), tl.xor_sum(acc, axis=0))


def read_probe(layers: list[dict]) -> list[str]:
    out = torch.empty(4 * 65536, dtype=torch.int32, device="cuda")
    lines = []
    for bn, bkb, warps, stages in ((64, 64, 4, 3), (64, 64, 4, 1), (16, 256, 4, 3), (32, 128, 4, 4), (64, 128, 8, 3)):
        calls = []
        for ex in layers:
            w = ex["w1_blocks"]
            E, N, G, _ = w.shape
            calls.append(lambda w=w, N=N, G=G: _read_tiles_kernel[(N // bn, 4)](
                w, out, G * 16 - (G * 16) % bkb, w.stride(0), w.stride(1), BN=bn, BKB=bkb, num_warps=warps,
                num_stages=stages))
        us = graph_us(calls)
        nbytes = 4 * N * (G * 16 - (G * 16) % bkb)
        lines.append(f"read up bytes BN={bn} BKB={bkb} w{warps} s{stages}: {us:.1f} us, {nbytes / us * 1e-3:.0f} GB/s")
    for ctas, step, warps in ((90, 4096, 4), (90, 8192, 4), (180, 4096, 4), (360, 4096, 4), (90, 16384, 8)):
        calls = []
        for ex in layers:
            w = ex["w1_blocks"]
            n_bytes = w[0].numel()
            calls.append(lambda w=w, n=n_bytes: _read_contiguous_kernel[(ctas, 4)](
                w, out, n, w.stride(0), STEP=step, num_warps=warps, num_stages=3))
        us = graph_us(calls)
        share = n_bytes // ctas
        nbytes = 4 * ctas * (share - share % step)
        lines.append(f"read up bytes contiguous {ctas}x4 CTAs step {step} w{warps}: {us:.1f} us, "
                     f"{nbytes / us * 1e-3:.0f} GB/s")
    return lines


def variants(T: int) -> list[tuple[dict, dict]]:
    up, down = moe_triton._configs(T * TOP_K, EXPERTS, torch.bfloat16, torch.device("cuda"))
    ups = [{}, {"SPLIT": 2}, {"SPLIT": 3}, {"SPLIT": 4}, {"EARLY": True}, {"SPLIT": 2, "EARLY": True},
           {"SPLIT": 2, "num_warps": 2}, {"SPLIT": 2, "BK": 64}, {"SPLIT": 4, "BN": 128},
           {"SPLIT": 2, "BN": 32, "num_warps": 2}]
    downs = [{"SPLIT": 4}, {"SPLIT": 2, "EARLY": True}, {"SPLIT": 4, "BK": 128, "num_warps": 4},
             {"SPLIT": 2, "BN": 64, "BK": 128}, {"SPLIT": 3, "BK": 128, "num_warps": 2}]
    return [(dict(up, **u), down) for u in ups] + [(up, dict(down, **d)) for d in downs]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:] if a != "--probe-only"] or ([] if "--probe-only" in sys.argv else [1, 8])
    layers = random_experts(4)
    print("\n".join(read_probe(layers)))
    for T in sizes:
        x = torch.randn(T, HIDDEN, device="cuda", dtype=torch.bfloat16)
        _, _, routes = random_routes(x, layers)
        for cfg in variants(T):
            calls = [lambda ex=ex, r=r: moe_triton.moe(x, r[0], r[1], ex, 7.0, configs=cfg)
                     for ex, r in zip(layers, routes)]
            try:
                times = kernel_us(calls)
                us = graph_us(calls)
            except Exception as e:  # a tile that does not fit
                print(f"T={T} {cfg}: {type(e).__name__}: {str(e)[:80]}")
                continue
            parts = ", ".join(f"{k.strip('_').split('_kernel')[0]} {v:.1f}" for k, v in sorted(times.items())
                              if "kernel" in k)
            print(f"T={T} graph {us:.1f} us | {parts} | up {cfg[0]} down {cfg[1]}")


if __name__ == "__main__":
    main()
