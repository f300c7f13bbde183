#!/usr/bin/env bash
# Session 10, run k (H200): scales a K step ahead (AHEAD) or first in each step (EARLY), which took the 256-token
# tile from 347.8 to 337.8 us (run f), on the 8- and 64-token tiles (16-row tiles, 2 warps; up not swapped at 8).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
U8='"BM": 16, "BN": 64, "BK": 128, "num_warps": 2, "num_stages": 3'
D8='"BM": 16, "BN": 64, "BK": 64, "num_warps": 2, "num_stages": 3, "SWAP": true'
M='"BM": 16, "BN": 64, "BK": 128, "num_warps": 2, "num_stages": 3, "SWAP": true'
timeout 150 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 8 8 \
  --tile "[{$U8, \"AHEAD\": true}, {$D8, \"AHEAD\": true}]" --tile "[{$U8, \"EARLY\": true}, {$D8, \"EARLY\": true}]" \
  --tile "[{$U8, \"AHEAD\": true}, {$D8}]" --tile "[{$U8}, {$D8, \"AHEAD\": true}]" 2>&1 | grep -v Warn
timeout 150 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 64 64 \
  --tile "{$M, \"AHEAD\": true}" --tile "{$M, \"EARLY\": true}" \
  --tile '{"BM": 16, "BN": 64, "BK": 64, "num_warps": 2, "num_stages": 4, "SWAP": true, "AHEAD": true}' 2>&1 | grep -v Warn
