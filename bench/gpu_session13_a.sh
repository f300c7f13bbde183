#!/usr/bin/env bash
# Session 13, run a (H200): the Gluon MoE (moechat/kernels/moe_wgmma.py: weights dequantized into the warpgroup
# MMA's registers): GPU tests against the reference, then the whole call against the Triton tiles at 64-8192 tokens.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 200 python3 -m pytest -q -x -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k "wgmma" 2>&1 \
  | grep -vi "warn" | tail -30
tiles=()
for t in '128, "BT": 64, "STAGES": 3' '128, "BT": 32, "STAGES": 3' '64, "BT": 32, "STAGES": 3' \
         '64, "BT": 64, "STAGES": 3' '128, "BT": 32, "STAGES": 4, "LAG": 1' '64, "BT": 32, "STAGES": 4, "LAG": 1' \
         '128, "BT": 64, "STAGES": 4, "LAG": 1'; do
  tiles+=(--tile "{\"WGMMA\": true, \"BW\": $t}")
done
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 64 1024 8192 "${tiles[@]}" \
  2>&1 | grep -v Warn
