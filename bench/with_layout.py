"""Runs a moechat command or a bench script with the GPU's experts in a chosen packed layout, whatever
moe_triton.block_rows_pay says for this GPU (an A/B of the layouts in the engine):
    python3 bench/with_layout.py rows -m moechat bench --chat-turns 0
    python3 bench/with_layout.py blocked bench/profile_decode.py --steps 5"""

import runpy
import sys

from moechat.kernels import moe_triton

blocked = {"rows": False, "blocked": True}[sys.argv[1]]
moe_triton.block_rows_pay = lambda device: blocked  # read by lay_out_experts when the engine loads
if sys.argv[2] == "-m":
    sys.argv = sys.argv[3:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
