#!/usr/bin/env bash
# Session 11, run d (H200): are the activation planes' loads what the GEMV loop waits on? .data/sameplanes_moe_triton.py
# reads the first step's planes at every step (wrong values: the loads always hit L1); .data/plane1d_moe_triton.py
# loads each step's planes as one 1-D vector (one 16-byte copy per thread, pipelined with the weights under PIPE,
# S32, PIF) and spreads it into the operands in registers. Both from 453d7d3 (run a's PIPE / S32 / PIF).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1$3}"; }
t() { echo "[$(g 16 256 ", \"PIPE\": $1, \"S32\": true, \"PIF\": true"), $(g 8 512 ", \"PIPE\": $1, \"S32\": true, \"PIF\": true")]"; }
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/sameplanes_moe_triton.py \
  .data/plane1d_moe_triton.py --sizes 1 1 2 --tile "$(t 1)" --tile "$(t 2)" --tile "$(t 3)" --tile "$(t 4)" 2>&1 \
  | grep -v "Warn\|TypeError\|KeyError" | sed 's/.GEMV.: True, //g; s/.num_warps.: 1, .num_stages.: 1, //g'
