#!/usr/bin/env bash
# Prepared in session 16 for the next device run (NOTES session 16 section 5, last item): the one- and two-token
# GEMVs with their dot products replaced by XORs (every load and the cp.async pipeline kept; wrong outputs by
# design) beside the tree, whole MoE call, at the default tiles and the up GEMV at PIPE 2 and 4; then the engine's
# batch-1 step per kernel for the tree. If the XOR copy takes ~13 of the 14.2 us, the loop's memory side binds.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
mkdir -p .data && python3 bench/make_nodot_variant.py .data/nodot_moe_triton.py
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
D="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80}"
for rep in 1 2; do
  timeout 90 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/nodot_moe_triton.py --sizes 1 2 \
    --tile "[$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 2}, $D]" --tile "[$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 4}, $D]" \
    2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | head -6 | tee $OUT/profile.txt
