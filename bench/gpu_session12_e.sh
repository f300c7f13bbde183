#!/usr/bin/env bash
# Session 12, run e (H200): run d found one token's GEMVs at 0.55 waves (1,440 one-warp programs, ~10 warps per SM of
# the 20 their 96 registers allow; up 2.58 active warps per scheduler, issue 0.55): more warps per SM through two warps
# per program, or twice the programs under a register cap (one wave of 2,880). Whole call, T=1 twice.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": $3, \"num_stages\": 1, \"PIPE\": $4${5:+, \"maxnreg\": $5}}"; }
U=$(g 16 256 1 3); D=$(g 8 512 1 1)
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 1 \
  --tile "[$(g 16 256 2 3), $D]" --tile "[$(g 32 256 2 3), $D]" --tile "[$(g 16 512 2 3), $D]" \
  --tile "[$(g 8 256 1 3 80), $D]" --tile "[$(g 8 256 1 3 72), $D]" --tile "[$(g 8 512 1 2 80), $D]" \
  --tile "[$U, $(g 8 512 2 1)]" --tile "[$U, $(g 16 512 2 1)]" --tile "[$U, $(g 4 512 1 1 80)]" \
  --tile "[$U, $(g 8 256 2 3)]" --tile "[$U, $(g 16 256 2 3)]" 2>&1 | grep -v Warn \
  | sed 's/.GEMV.: True, //g; s/.num_stages.: 1, //g'
