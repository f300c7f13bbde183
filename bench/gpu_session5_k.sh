#!/usr/bin/env bash
# Session 5, eleventh device run: decode MoE at 1 token with more K splits / narrower or wider up tiles.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 bench/moe_decode_variants.py 1 --blocked 2>&1 | grep -v Warn | sed "s/'num_//g"
