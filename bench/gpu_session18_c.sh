#!/usr/bin/env bash
# Session 18, run c (H200): tiles the K-tail change (session 17 section 7) made fit, not measured since: 8-row up
# programs with their loads copied ahead (61 registers: 2,880 programs in one wave), pipelined down tiles (their
# tails now hoisted too); whole call, T=1, twice. Then the batch-1 decode step's kernels in full (profile_decode).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
U="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}"
D="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80}"
for rep in 1 2; do
  timeout 240 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$G, \"BN\": 8, \"BK\": 256, \"PIPE\": 3}, $D]" --tile "[$G, \"BN\": 8, \"BK\": 256, \"PIPE\": 2}, $D]" \
    --tile "[$G, \"BN\": 8, \"BK\": 256, \"PIPE\": 4}, $D]" \
    --tile "[$U, $G, \"BN\": 4, \"BK\": 256, \"PIPE\": 3}]" --tile "[$U, $G, \"BN\": 4, \"BK\": 256, \"PIPE\": 2}]" \
    --tile "[$U, $G, \"BN\": 8, \"BK\": 256, \"PIPE\": 3}]" --tile "[$U, $G, \"BN\": 4, \"BK\": 512, \"PIPE\": 2}]" \
    --tile "[$U, $G, \"BN\": 4, \"BK\": 512, \"PIPE\": 2, \"maxnreg\": 88}]" \
    --tile "[$G, \"BN\": 8, \"BK\": 256, \"PIPE\": 3}, $G, \"BN\": 4, \"BK\": 256, \"PIPE\": 3}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/tiles.txt
done
timeout 120 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | tee $OUT/profile.txt
