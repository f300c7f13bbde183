#!/usr/bin/env bash
# Session 13, run d (H200): the Gluon MoE with half-wide MMAs for row tiles of at most BT / 2 rows (HALF), under a
# register cap, and 8- and 16-column MMAs for 8 and 64 tokens.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k "wgmma" 2>&1 \
  | grep -E "passed|failed|Error|assert " | head -20
tiles=()
for t in '64, "STAGES": 3, "PF": 2' '64, "STAGES": 3, "PF": 2, "HALF": true' \
         '64, "STAGES": 3, "PF": 2, "HALF": true, "maxnreg": 168' '64, "STAGES": 4, "PF": 2, "HALF": true, "maxnreg": 168' \
         '32, "STAGES": 3, "PF": 2' '32, "STAGES": 3, "PF": 2, "HALF": true' '16, "STAGES": 3, "PF": 2' \
         '8, "STAGES": 3, "PF": 2' '16, "STAGES": 3, "PF": 3'; do
  tiles+=(--tile "{\"WGMMA\": true, \"BW\": 128, \"BT\": $t}")
done
timeout 300 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 256 64 8 1024 "${tiles[@]}" \
  2>&1 | grep -v Warn
