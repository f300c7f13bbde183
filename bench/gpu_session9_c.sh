#!/usr/bin/env bash
# (The tensor-core GEMV, DEQ 4, and moe_decode_variants' --mma flag were removed after run c: aeace3f.)
# Session 9, run c (H200): run b timed the tensor-core GEMV (DEQ 4) slower than the fp16 dot (up 22.7 against
# 17.9 us at 16 rows a warp, one warp a program: half the warps, and 8 dependent MMAs a step). Now: warps split
# K inside a program (2-4), two accumulator chains; GPU tests, then the tiles at one token.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "activation_range or tiles_and_dequant" 2>&1 | grep -E "PASS|FAIL|Error|assert|passed|failed" | head -30
timeout 200 python3 bench/moe_decode_variants.py 1 --rows --mma 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-220
