#!/usr/bin/env bash
# Session 14, run f (H200): the packed words through the cp.async ring in shared memory, STAGES - 1 steps ahead
# (.data/s14w_*.py; run d: long-scoreboard stalls on the words' loads, 2 steps ahead in registers, were the top
# stall), against this tree; then the Gluon GPU tests with that file in the tree's place (on the device only).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
tiles=()
for t in '"STAGES": 4, "HALF": true, "maxnreg": 168' '"STAGES": 3, "HALF": true, "maxnreg": 128'; do
  tiles+=(--tile "{\"WGMMA\": {\"BW\": 128, \"BT\": 64, $t}}")
done
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s14w_moe_triton.py --sizes 256 1024 \
  "${tiles[@]}" 2>&1 | grep -v Warn | tee $OUT/ab.txt
cp .data/s14w_moe_wgmma.py moechat/kernels/moe_wgmma.py
timeout 100 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k wgmma 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head
