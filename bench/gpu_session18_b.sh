#!/usr/bin/env bash
# Session 18, run b (H200): the one-token down GEMV's programs asking for their weights into L2 before they wait
# for the up GEMV (PRE), with and without the up GEMV letting them start early (LAUNCH_NEXT); whole call, T=1, twice.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
U="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3"
D="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80"
for rep in 1 2; do
  timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$U, \"LAUNCH_NEXT\": true}, $D}]" --tile "[$U}, $D, \"PRE\": true}]" \
    --tile "[$U, \"LAUNCH_NEXT\": true}, $D, \"PRE\": true}]" \
    --tile "[$U, \"LAUNCH_NEXT\": true}, $G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 64, \"PRE\": true}]" \
    --tile "[$U, \"LAUNCH_NEXT\": true}, $G, \"BN\": 8, \"BK\": 512, \"PRE\": true}]" \
    --tile "[$U, \"LAUNCH_NEXT\": true}, $G, \"BN\": 8, \"BK\": 256, \"AHEAD\": true, \"PRE\": true}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/pre.txt
done
