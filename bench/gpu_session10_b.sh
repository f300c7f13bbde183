#!/usr/bin/env bash
# Session 10, run b (H200): run a's join variants again (their SWAP branch now an else: run a's joinperm copy did
# not compile), at the default tiles and around the 256-token tile (.data as in run a).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
M='moechat/kernels/moe_triton.py .data/join_moe_triton.py .data/joinperm_moe_triton.py'
timeout 200 python3 bench/moe_module_ab.py $M --sizes 8 64 1024 8192 2>&1 | grep -v Warn
timeout 300 python3 bench/moe_module_ab.py $M --sizes 256 \
  --tile '{"BM": 64, "BN": 128, "BK": 128, "num_warps": 4, "num_stages": 2, "S32": true}' \
  --tile '{"BM": 64, "BN": 128, "BK": 128, "num_warps": 4, "num_stages": 4, "S32": true}' \
  --tile '{"BM": 64, "BN": 256, "BK": 128, "num_warps": 8, "num_stages": 3, "S32": true}' \
  --tile '{"BM": 64, "BN": 64, "BK": 128, "num_warps": 4, "num_stages": 3, "S32": true}' \
  --tile '{"BM": 64, "BN": 128, "BK": 256, "num_warps": 4, "num_stages": 2, "S32": true}' 2>&1 | grep -v Warn
