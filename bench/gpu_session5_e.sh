#!/usr/bin/env bash
# Session 5, fifth device run: MoE tiles with packed bytes + scales one K step ahead (AHEAD=2) at decode sizes.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m pytest -q -m gpu tests/test_kernels_moe.py -p no:cacheprovider -k "real_sizes" 2>&1 | tail -2
timeout 400 python3 bench/moe_decode_variants.py 1 8 64 256 --blocked 2>&1 | grep -v Warn | sed "s/'num_//g"
