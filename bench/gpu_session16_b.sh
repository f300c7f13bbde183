#!/usr/bin/env bash
# Session 16, run b (H200): what the fused GEMVs' grid barrier costs: HEAD's two launches (s16base), the tree's
# barrier, its spin with a 128 ns nanosleep (s16sleep), two-level arrivals + the sleep (s16tree), no barrier at
# all (s16nobar: wrong outputs, the fused structure's time alone). Whole MoE call, T=1.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
UP="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3"
for rep in 1 2; do
timeout 150 python3 bench/moe_module_ab.py .data/s16base_moe_triton.py moechat/kernels/moe_triton.py \
  .data/s16sleep_moe_triton.py .data/s16tree_moe_triton.py .data/s16nobar_moe_triton.py --sizes 1 \
  --tile "[$UP, \"FUSED\": true}, $G, \"BN\": 8, \"BK\": 512}]" 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
