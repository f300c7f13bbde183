#!/usr/bin/env bash
# Session 7, run c (H200): GEMV tiles with 8-row programs (twice the one-warp programs, so twice the loads in
# flight: run b's engine profile put the fp16-product GEMVs at 1.5 TB/s, with no gain from pipelining stages).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1, //g" | cut -c1-200
