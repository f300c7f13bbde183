#!/usr/bin/env bash
# Session 8, run h (H200): run c found the batch-1 GEMVs under one wave of programs (up 17 warps per SM); the
# planes need no barrier, so programs of 2 warps splitting a long K step, and 4-row programs (more of them), on
# the row-major experts the H200 now uses.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 bench/moe_decode_variants.py 1 --rows 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-200
