#!/usr/bin/env bash
# Session 18, run a (H200): (1) the one-token GEMVs with each step's loads issued one step ahead into registers
# (AHEAD, no shared memory) at tiles whose registers keep one wave, whole call at 1-2 tokens, twice; (2) session
# 17's prepared load ablation (bench/gemv_loads_next.sh).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
U="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}"
D="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80}"
A="\"AHEAD\": true"
for rep in 1 2; do
  timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$U, $G, \"BN\": 4, \"BK\": 256, \"maxnreg\": 80, $A}]" --tile "[$U, $G, \"BN\": 8, \"BK\": 256, $A}]" \
    --tile "[$U, $G, \"BN\": 8, \"BK\": 128, $A}]" --tile "[$U, $G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 128, $A}]" \
    --tile "[$G, \"BN\": 16, \"BK\": 128, $A}, $D]" --tile "[$G, \"BN\": 8, \"BK\": 256, \"maxnreg\": 88, $A}, $D]" \
    --tile "[$G, \"BN\": 16, \"BK\": 256, $A}, $D]" --tile "[$G, \"BN\": 16, \"BK\": 128, $A}, $G, \"BN\": 4, \"BK\": 256, \"maxnreg\": 80, $A}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/ahead.txt
done
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 2 \
  --tile "[$G, \"BN\": 8, \"BK\": 256, $A}, $G, \"BN\": 8, \"BK\": 256, $A}]" \
  --tile "[$G, \"BN\": 8, \"BK\": 128, $A}, $G, \"BN\": 8, \"BK\": 128, $A}]" \
  2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/ahead.txt
bash bench/gemv_loads_next.sh
