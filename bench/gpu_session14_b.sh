#!/usr/bin/env bash
# Session 14, run b (H200): the MMA kept running across the next step's dequantization (.data/s14o_*.py: each step
# waits for all but its own MMA, the ring refilling the slot two steps back; needs STAGES >= 4) against this tree's
# unrolled loop, over tile shapes and register caps; then the kernel table on this tree.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
tiles=()
for t in '128, "BT": 64, "STAGES": 4, "HALF": true' '128, "BT": 64, "STAGES": 4, "HALF": true, "maxnreg": 168' \
         '128, "BT": 64, "STAGES": 6, "HALF": true' '64, "BT": 64, "STAGES": 4, "HALF": true, "maxnreg": 128' \
         '64, "BT": 64, "STAGES": 6, "HALF": true, "maxnreg": 128' '128, "BT": 16, "STAGES": 4' \
         '64, "BT": 16, "STAGES": 4, "maxnreg": 128'; do
  tiles+=(--tile "{\"WGMMA\": {\"BW\": $t}}")
done
timeout 330 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s14o_moe_triton.py --sizes 256 1024 64 \
  "${tiles[@]}" 2>&1 | grep -v Warn
timeout 240 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" | tee $OUT/kernels.txt
