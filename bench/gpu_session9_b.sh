#!/usr/bin/env bash
# (The tensor-core GEMV, DEQ 4, and moe_decode_variants' --mma flag were removed after run c: aeace3f.)
# Session 9, run b (H200): the planes as a per-word column order and the DEQ 3 PTX on 4 words (pack 4); the
# tensor-core GEMV (DEQ 4): GPU MoE tests (both), then its tiles at one token against the default.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 330 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "real_sizes or activation_range or tiles_and_dequant" 2>&1 | grep -E "PASS|FAIL|Error|assert|passed|failed" | head -30
timeout 200 python3 bench/moe_decode_variants.py 1 --rows --mma 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-220
