#!/usr/bin/env bash
# Session 6, run h: GEMV tiles with more programs per SM at T=1 (8-row tiles, one warp); MMA tile variants at T=8.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 bench/moe_decode_variants.py 1 8 --blocked 2>&1 | grep -v Warn | sed -e "s/'num_stages': 1, //g" -e "s/'GEMV': True, //g"
