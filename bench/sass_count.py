"""SASS instruction mix of the MoE GEMM kernels for sm_90, compiled here (no GPU needed: Triton ships ptxas and
nvdisasm). Counts the opcodes of the K loop's body (the longest backward branch's span), per weight dequantized.
    python bench/sass_count.py [--kernel up|down] [--bm 16 --bn 64 --bk 128 --warps 4 --stages 3] [--swap] [--deq 2]"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from collections import Counter

import triton

from moechat.kernels.bench import compile_kernel

def loop_mix(cubin: bytes) -> Counter:
    nvdisasm = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "nvdisasm")
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        text = subprocess.run([nvdisasm, "-c", f.name], capture_output=True, text=True, check=True).stdout
    ops = [(int(m.group(1), 16), m.group(2)) for m in
           re.finditer(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)", text)]
    labels = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"\.(L_x_\d+):\s*\n\s*/\*([0-9a-f]{4,})\*/", text)}
    # the K loop: the longest span from a backward branch's target to the branch
    spans = [(int(m.group(1), 16) - labels[m.group(2)], labels[m.group(2)], int(m.group(1), 16))
             for m in re.finditer(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P\w+\s+)?BRA[^`\n]*`\(\.(L_x_\d+)\)", text)
             if labels.get(m.group(2), 1 << 62) < int(m.group(1), 16)]
    _, lo, hi = max(spans)
    return Counter(op.split(".")[0] if not op.startswith("LDG") else op for addr, op in ops if lo <= addr <= hi)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", choices=("up", "down", "up_gemv", "down_gemv"), default="up")
    p.add_argument("--bm", type=int, default=16)
    p.add_argument("--bn", type=int, default=64)
    p.add_argument("--bk", type=int, default=128)
    p.add_argument("--warps", type=int, default=4)
    p.add_argument("--stages", type=int, default=3)
    p.add_argument("--swap", action="store_true")
    p.add_argument("--deq", type=int, default=2)
    p.add_argument("--s32", action="store_true", help="scales read as 32-bit words (rows padded)")
    p.add_argument("--ahead", action="store_true", help="scales loaded a K step ahead")
    p.add_argument("--early", action="store_true", help="scales loaded first in each K step")
    p.add_argument("--blocked", action="store_true", help="packed weights in block_rows' layout")
    p.add_argument("--pipe", type=int, default=1, help="GEMVs: stages of the K loop's loads (1: none)")
    a = p.parse_args()
    k = compile_kernel(a.kernel, a.bm, a.bn, a.bk, a.warps, a.stages, a.swap, a.deq, a.s32, a.ahead, a.early,
                       a.blocked, a.pipe)
    mix = loop_mix(k.asm["cubin"])
    weights = a.bn * a.bk / (32 * a.warps)  # weights dequantized per thread per loop iteration
    total = sum(mix.values())
    print(f"{a.kernel} BM={a.bm} BN={a.bn} BK={a.bk} warps={a.warps} swap={a.swap} deq={a.deq} "
          f"s32={a.s32} ahead={a.ahead} early={a.early} blocked={a.blocked}: {total} "
          f"instructions"
          f" per iteration per thread, {total / weights:.2f} per weight")
    print("  " + ", ".join(f"{op} {n}" for op, n in mix.most_common(16)))


if __name__ == "__main__":
    main()
