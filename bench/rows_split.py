"""The few-row linear kernels (o-projection, and qkv with RoPE + KV write) split over K or not, at gpt-oss-20b's
sizes on the GPU: graph-replay microseconds, 4 weights cycled.
    PYTHONPATH=$PWD python3 bench/rows_split.py"""

from __future__ import annotations

import torch

from moechat.kernels import linear_triton
from moechat.kernels.bench import HEAD_DIM, HEADS, KV_HEADS, PAGE, graph_us, projections


def main() -> None:
    cos = sin = torch.ones(4096, HEAD_DIM // 2, device="cuda")
    for M in (2, 8):
        (_, xq, wq, bq), (_, xo, wo, bo) = projections(M)
        pos = torch.arange(M, device="cuda")
        kc, vc = (torch.zeros(M // PAGE + 1, PAGE, KV_HEADS, HEAD_DIM, device="cuda", dtype=xq.dtype) for _ in range(2))
        us = graph_us([lambda w=w: torch.nn.functional.linear(xo, w, bo) for w in wo])
        print(f"o-proj T={M} cuBLAS: {us:.1f} us")
        us = graph_us([lambda w=w: torch.nn.functional.linear(xq, w, bq) for w in wq])
        print(f"qkv T={M} cuBLAS (no rope): {us:.1f} us")
        for split in (1, 2, 3, 4):
            cfg = dict(linear_triton._config(8, 4096), SPLIT=split)
            us = graph_us([lambda w=w: linear_triton.linear(xo, w, bo, cfg) for w in wo])
            print(f"o-proj T={M} split {split}: {us:.1f} us")
            linear_triton.QKV_ROWS["SPLIT"] = split
            us = graph_us([lambda w=w: linear_triton.qkv_rope_write_kv(xq, w, bq, HEADS, cos, sin, pos, kc, vc, pos)
                           for w in wq])
            print(f"qkv + rope T={M} split {split}: {us:.1f} us")


if __name__ == "__main__":
    main()
