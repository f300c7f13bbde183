#!/usr/bin/env bash
# MoE dequant (one multiply, new bit placement) and transposed decode tiles: GPU tests, kernel table + sweep,
# and where the host spends a decode step.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 bench/profile_host.py --batch 1 256 > $OUT/host.txt 2>&1; tail -45 $OUT/host.txt
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_moe.py -p no:cacheprovider -x 2>&1 | tail -4
timeout 230 python3 -m moechat.kernels.bench --sweep moe > $OUT/kern.txt 2>&1; grep -v "^  T=" $OUT/kern.txt | head -60
