#!/usr/bin/env bash
# Session 10, run h (H200): run d's profile of the up GEMV has its SMs active 72% of the kernel's cycles
# (28.7k of 39.6k) with 2,880 programs = 1.09 waves: programs of 16 or 32 rows with shorter K steps keep 96
# registers (compiled here) in one wave of 1,440 or 720 programs.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": $3, \"num_stages\": 1}"; }
D=$(g 8 512 1)
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 2 \
  --tile "[$(g 16 256 1), $D]" --tile "[$(g 32 128 1), $D]" --tile "[$(g 16 512 1), $D]" \
  --tile "[$D, $(g 16 256 1)]" --tile "[$D, $(g 32 128 1)]" --tile "[$(g 16 256 1), $(g 16 256 1)]" 2>&1 | grep -v Warn
