#!/usr/bin/env bash
# Session 5, twelfth device run: the MoE at prefill sizes of 1-2k tokens with 64-row tiles.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 bench/moe_decode_variants.py 1024 2048 --blocked 2>&1 | grep -v Warn | sed "s/'num_//g"
