"""What the decode GEMVs' access pattern alone can read: a Triton kernel that only loads the up experts' packed
weights (4 experts of gpt-oss-20b, 35 MB, 8 layers cycled so L2 holds none) the way a GEMV program does (BN rows,
BK columns a K step, row-major rows or block_rows' layout) and XORs the words, against torch's copy of the same bytes.
--pipe N: the K loop's loads copied N - 1 steps ahead through shared memory (tl.range's num_stages, as the GEMVs'
PIPE), to tell that copy path's cost from the direct loads'.
    PYTHONPATH=$PWD python3 bench/read_pattern.py [--tiles 16x256 8x512 ...] [--pipe 1 3]"""

from __future__ import annotations

import argparse

import torch
import triton
import triton.language as tl

from moechat.kernels import moe_triton
from moechat.kernels.bench import EXPERTS, HIDDEN, INTER, graph_us


@triton.jit
def _read_kernel(w_ptr, idx_ptr, out_ptr, K, stride_we, stride_bn, BN: tl.constexpr, BK: tl.constexpr,
                 BLOCKED: tl.constexpr, PIPE: tl.constexpr):
    e = tl.load(idx_ptr + tl.program_id(1)).to(tl.int64)
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    acc = tl.zeros([BN, BK // 8], tl.int32)
    base = w_ptr.to(tl.pointer_type(tl.int32)) + e * (stride_we // 4)
    for k0 in tl.range(0, K // BK * BK, BK, num_stages=PIPE):
        j = k0 // 8 + tl.arange(0, BK // 8)
        acc ^= tl.load(base + moe_triton._packed_offsets(n, j, stride_bn // 4, BLOCKED, moe_triton.CHUNK_BYTES // 4))
    tl.store(out_ptr + tl.program_id(1) * tl.num_programs(0) + tl.program_id(0), tl.reduce_or(acc, axis=None))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tiles", nargs="+", default=["16x256", "8x512", "16x512", "32x256"])
    p.add_argument("--pipe", type=int, nargs="+", default=[1])
    a = p.parse_args()
    layers = 8
    rows = [torch.randint(0, 256, (EXPERTS, 2 * INTER, HIDDEN // 32, 16), dtype=torch.uint8, device="cuda")
            for _ in range(layers)]
    idx = torch.randperm(EXPERTS, device="cuda")[:4].to(torch.int32)
    read_bytes = 4 * rows[0][0].numel()
    copy = graph_us([lambda w=w: w[:4].clone() for w in rows])
    print(f"copy of 4 experts' up weights ({read_bytes / 1e6:.1f} MB): {copy:.1f} us, "
          f"{read_bytes / copy / 1e3:.0f} GB/s (read) ")
    for blocked in (False, True):
        ws = [moe_triton.block_rows(w) if blocked else w for w in rows]
        for tile, pipe in [(t, q) for t in a.tiles for q in a.pipe]:
            bn, bk = map(int, tile.split("x"))
            out = torch.empty(triton.cdiv(2 * INTER, bn) * 4, dtype=torch.int32, device="cuda")
            _, stride_bn, flag = moe_triton._rows_layout(ws[0])
            us = graph_us([lambda w=w: _read_kernel[(2 * INTER // bn, 4)](w, idx, out, HIDDEN, w.stride(0), stride_bn,
                                                                         BN=bn, BK=bk, BLOCKED=flag, PIPE=pipe,
                                                                         num_warps=1)
                           for w in ws])
            covered = 4 * 2 * INTER * (HIDDEN // bk * bk) // 2
            print(f"{'block_rows' if blocked else 'row-major'} {bn} rows x {bk} columns, one warp, PIPE {pipe}: "
                  f"{us:.1f} us, {covered / us / 1e3:.0f} GB/s")


if __name__ == "__main__":
    main()
