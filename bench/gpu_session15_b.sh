#!/usr/bin/env bash
# Session 15, run b (H200): two warpgroups a program (.data/s15w8_*.py: run a's candidate with WARPS and MASK configs):
# 128 weight rows shared by 8 warps, so each thread holds 64-row tiles' registers (117: 2 programs, 16 warps per SM)
# while the activations are read once per 128 rows; with and without the masked rows, deeper rings; against the
# tree and run a's best 64-row tile.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s15w8_moe_triton.py --sizes 256 1024 \
  2>&1 | grep -v Warn | tee $OUT/ab1.txt
tiles=()
for t in '"BW": 128, "WARPS": 8, "STAGES": 4, "maxnreg": 128' '"BW": 128, "WARPS": 8, "STAGES": 4, "MASK": true, "maxnreg": 128' \
         '"BW": 128, "WARPS": 8, "STAGES": 6, "MASK": true, "maxnreg": 128' '"BW": 128, "WARPS": 8, "STAGES": 3, "MASK": true, "maxnreg": 128' \
         '"BW": 64, "STAGES": 4, "MASK": true, "maxnreg": 128' '"BW": 64, "STAGES": 5, "MASK": true, "maxnreg": 128'; do
  tiles+=(--tile "{\"WGMMA\": {\"BT\": 64, \"HALF\": true, $t}}")
done
timeout 200 python3 bench/moe_module_ab.py .data/s15w8_moe_triton.py --sizes 256 1024 "${tiles[@]}" 2>&1 | grep -v Warn \
  | tee $OUT/ab2.txt
