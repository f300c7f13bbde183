#!/usr/bin/env bash
# Session 12, run b (H200): the PTX paths for sm_80-86 (the MMA tiles' multiplies as fma with -0, the GEMVs'
# weights built by prmt): GPU tests (bit-identical outputs with sm_80's choice forced, the portable path below sm_80,
# real sizes, end to end); whole calls of this tree against session 11's kernels (expected bit-identical, same time:
# ptxas folds the fma into the same HMUL2) and of sm_80's choice run here; 256-token tiles under a register cap.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 330 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "portable or sm80 or real_sizes or activation_range or e2e" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed|assert" | head -20
timeout 150 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s11_moe_triton.py .data/sm80_moe_triton.py \
  --sizes 1 2 8 64 256 8192 2>&1 | grep -v Warn
m() { echo "{\"BM\": 64, \"BN\": 128, \"BK\": 64, \"num_warps\": 4, \"num_stages\": $1, \"AHEAD\": true, \"maxnreg\": $2}"; }
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 256 \
  --tile "$(m 3 128)" --tile "$(m 4 128)" --tile "$(m 2 128)" 2>&1 | grep -v Warn
