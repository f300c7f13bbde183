#!/usr/bin/env bash
# MoE decode tiles: one-multiply dequant, transposed product, TMA loads of the packed bytes; GPU tests, then the
# kernel table with the tile sweep (profiler times per tile in $OUT/kern.txt).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 280 python3 -m pytest -q -m gpu tests/test_kernels_moe.py -p no:cacheprovider -x 2>&1 | tail -4
timeout 280 python3 -m moechat.kernels.bench --sweep moe > $OUT/kern.txt 2>&1; grep "^moe\|^sweep" $OUT/kern.txt
