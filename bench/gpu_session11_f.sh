#!/usr/bin/env bash
# Session 11, run f (H200): tiles around the pipelined one-token GEMVs (run e: up 16/256 PIPE 3 took the engine's up
# GEMV from 16.76 to 14.25 us; the down GEMV 8/512 PIPE 3 stayed at 10.2).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1, \"PIPE\": $3}"; }
U=$(g 16 256 3)
timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 1 \
  --tile "[$U, $(g 16 256 3)]" --tile "[$U, $(g 8 256 3)]" --tile "[$U, $(g 8 512 4)]" --tile "[$U, $(g 4 512 3)]" \
  --tile "[$U, $(g 8 512 1)]" --tile "[$(g 16 256 4), $(g 8 512 3)]" --tile "[$(g 16 128 4), $(g 8 512 3)]" \
  --tile "[$(g 32 128 3), $(g 8 512 3)]" 2>&1 | grep -v "Warn" | sed 's/.GEMV.: True, //g; s/.num_warps.: 1, .num_stages.: 1, //g'
