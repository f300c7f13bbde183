#!/usr/bin/env bash
# Session 10, run e (H200): run d's profiles of the one-token GEMVs: the up GEMV's 2,880 one-warp programs are
# 1.09 waves (96 registers: 20 per SM), the down GEMV's 1,440 are 0.55 waves; both stall on memory (long
# scoreboard 4.1 / 3.6 cycles per issue). Register caps for the up GEMV (one wave), K splits for the down GEMV
# (twice the programs), at 1 and 2 tokens. Ran on 393893f (the down GEMV's SPLIT option), reverted after this run.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
G='"GEMV": true, "BN": 8, "BK": 512, "num_warps": 1, "num_stages": 1'
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 2 \
  --tile "[{$G, \"maxnreg\": 88}, {$G}]" --tile "[{$G, \"maxnreg\": 80}, {$G}]" \
  --tile "[{\"GEMV\": true, \"BN\": 16, \"BK\": 512, \"num_warps\": 2, \"num_stages\": 1, \"maxnreg\": 88}, {$G}]" \
  --tile "[{$G}, {$G, \"SPLIT\": 2}]" --tile "[{$G}, {$G, \"SPLIT\": 3}]" \
  --tile "[{$G}, {\"GEMV\": true, \"BN\": 8, \"BK\": 256, \"num_warps\": 1, \"num_stages\": 1, \"SPLIT\": 2}]" \
  --tile "[{$G}, {$G, \"SPLIT\": 2, \"maxnreg\": 88}]" \
  --tile "[{$G, \"maxnreg\": 88}, {$G, \"SPLIT\": 2}]" 2>&1 | grep -v Warn
