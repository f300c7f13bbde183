#!/usr/bin/env bash
# Session 6, run i: one-row GEMV tiles of the attention projections, one-warp programs included.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 400 python3 bench/gemv_sweep.py 2>&1 | grep -v -i warn
