#!/usr/bin/env bash
# Session 6, review run: the GEMV path folded into moe_pairs and its K step in one helper (same SASS), on the GPU.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py -p no:cacheprovider \
  -k "moe_real_sizes or tiles_and_dequant or e2e" 2>&1 | tail -1
timeout 100 python3 bench/moe_decode_variants.py 1 --blocked 2>&1 | grep -v Warn | head -2
