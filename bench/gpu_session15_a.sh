#!/usr/bin/env bash
# Prepared in session 14 for the next device call (H200): the ring as 4 separate slot buffers (.data/s14c_*.py;
# regenerate with `git show 4cf9170:moechat/kernels/moe_wgmma.py > .data/s14c_moe_wgmma.py`, the loader copy as
# NOTES session 14 section 6 says) against this tree; the Gluon GPU tests with it in the tree's place (device copy
# only); the kernel table on this tree (not run since the PTX and ring changes).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s14c_moe_triton.py \
  --sizes 256 1024 256 2>&1 | grep -v Warn | tee $OUT/ab.txt
timeout 240 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" > $OUT/kernels.txt; grep moe $OUT/kernels.txt
cp .data/s14c_moe_wgmma.py moechat/kernels/moe_wgmma.py
timeout 100 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k wgmma 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head
