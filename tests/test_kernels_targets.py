"""The MoE kernels the dispatch picks on each NVIDIA GPU generation compile for it (Triton ships ptxas: no GPU
needed). Their PTX needs sm_80 (bf16x2 fma, f16x2 products), the GEMVs' e4m3 conversions sm_89 (before it the
weights are built by prmt); older GPUs take the portable dequantization."""

import os
import subprocess
import sys

import pytest

# run apart: the other kernel tests put this process's Triton in interpreter mode
SCRIPT = """
import sys, torch
from moechat.kernels import moe_triton
from moechat.kernels.bench import compile_kernel
cc = int(sys.argv[1])
moe_triton._ptx_capability = lambda x: divmod(cc, 10)
x = torch.empty(1, dtype=torch.bfloat16)
gemv, mma = moe_triton._gemv_dequant(x), moe_triton._dequant_mode(x, {"max_scale": 121})
# the tiles _configs picks at 1 and 2 tokens (GEMVs), 8 and 256 (MMA tiles) of gpt-oss-20b (32 experts, top 4)
tiles = {(kernel, tuple(sorted((k, v) for k, v in c.items() if k != "WGMMA")))  # Gluon's: the test below
         for pairs in (4, 8, 32, 1024)
         for kernel, c in zip(("up", "down"), moe_triton._configs(pairs, 32, torch.bfloat16, torch.device("cuda")))}
for kernel, items in sorted(tiles):
    c = dict(items)
    pipe = c.get("PIPE", 1)
    compile_kernel(kernel + "_gemv" * c.get("GEMV", False), c.get("BM", 16), c["BN"], c["BK"], c["num_warps"],
                   c["num_stages"], c.get("SWAP", False), gemv if c.get("GEMV") else mma,
                   s32=c.get("S32", False) or pipe > 1, ahead=c.get("AHEAD", False), pipe=pipe, capability=cc)
print(gemv, mma)
"""


@pytest.mark.parametrize("cc,modes", [(75, "0 0"), (80, "4 2"), (86, "4 2"), (89, "3 2"), (90, "3 2")])
def test_moe_kernels_compile_for_each_gpu(cc, modes):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(cc)], capture_output=True, text=True, env=env,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-2:] == modes.split()  # (GEMV, MMA) dequantization modes picked


GLUON_SCRIPT = """
import torch
from moechat.kernels import moe_triton
from moechat.kernels.bench import compile_gluon_moe
# the Gluon configs _configs picks at 8, 96, 256 and 1024 tokens of gpt-oss-20b (1, 12, 32 and 128 rows per expert)
configs = {tuple(sorted(c["WGMMA"].items())) for pairs in (32, 384, 1024, 4096)
           for c in moe_triton._configs(pairs, 32, torch.bfloat16, torch.device("cuda"))}
for c in configs:
    for up in (True, False):
        compile_gluon_moe(up, dict(c))
print(len(configs), "compiled")
"""


def test_gluon_moe_compiles_for_sm90():
    """The Gluon grouped GEMMs compile for sm_90 with this machine's Triton, the dequantized weights landing in the
    MMA's registers with no data movement (their convert_layout asserts it)."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    run = subprocess.run([sys.executable, "-c", GLUON_SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-2:] == ["4", "compiled"]
