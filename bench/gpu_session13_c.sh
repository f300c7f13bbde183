#!/usr/bin/env bash
# Session 13, run c (H200): the Gluon MoE with its packed words 3 K steps ahead, and under register caps.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k "wgmma" 2>&1 \
  | grep -E "passed|failed|Error|assert " | head -20
tiles=()
for t in '128, "BT": 64, "STAGES": 3, "PF": 2' '128, "BT": 64, "STAGES": 3, "PF": 3' \
         '128, "BT": 64, "STAGES": 3, "PF": 3, "maxnreg": 168' '128, "BT": 32, "STAGES": 3, "PF": 3' \
         '128, "BT": 32, "STAGES": 3, "PF": 2, "maxnreg": 128' '128, "BT": 64, "STAGES": 4, "PF": 3' \
         '64, "BT": 32, "STAGES": 3, "PF": 3' '128, "BT": 64, "STAGES": 2, "PF": 3'; do
  tiles+=(--tile "{\"WGMMA\": true, \"BW\": $t}")
done
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 64 1024 8192 "${tiles[@]}" \
  2>&1 | grep -v Warn
