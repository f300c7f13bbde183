#!/usr/bin/env bash
# Session 17, run e (H200): the one-token GEMVs with 2-4 warps a program (more warps per scheduler to hide each
# other's load waits, the planes shared by the program's warps; one warp a program since the H100's session 3),
# whole call at 1-2 tokens.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
G='{"GEMV": true, "num_stages": 1'
U="$G, \"num_warps\": 1, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}"
D="$G, \"num_warps\": 1, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80}"
for rep in 1 2; do
  timeout 250 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$G, \"num_warps\": 2, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}, $D]" \
    --tile "[$G, \"num_warps\": 2, \"BN\": 16, \"BK\": 512, \"PIPE\": 3}, $D]" \
    --tile "[$G, \"num_warps\": 2, \"BN\": 32, \"BK\": 256, \"PIPE\": 3}, $D]" \
    --tile "[$G, \"num_warps\": 4, \"BN\": 32, \"BK\": 256, \"PIPE\": 3}, $D]" \
    --tile "[$G, \"num_warps\": 4, \"BN\": 16, \"BK\": 512, \"PIPE\": 3}, $D]" \
    --tile "[$U, $G, \"num_warps\": 2, \"BN\": 8, \"BK\": 512}]" \
    --tile "[$U, $G, \"num_warps\": 2, \"BN\": 4, \"BK\": 1024}]" \
    --tile "[$U, $G, \"num_warps\": 2, \"BN\": 8, \"BK\": 512, \"PIPE\": 3}]" \
    --tile "[$U, $G, \"num_warps\": 4, \"BN\": 16, \"BK\": 512}]" \
    --tile "[$U, $G, \"num_warps\": 4, \"BN\": 8, \"BK\": 1024}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_stages.: 1, //g' | tee -a $OUT/warps.txt
done
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 2 \
  --tile "[$G, \"num_warps\": 2, \"BN\": 16, \"BK\": 512}, $G, \"num_warps\": 2, \"BN\": 16, \"BK\": 512}]" \
  --tile "[$G, \"num_warps\": 2, \"BN\": 8, \"BK\": 512}, $G, \"num_warps\": 2, \"BN\": 8, \"BK\": 512}]" \
  --tile "[$G, \"num_warps\": 2, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}, $G, \"num_warps\": 2, \"BN\": 8, \"BK\": 512}]" \
  2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_stages.: 1, //g' | tee -a $OUT/warps.txt
