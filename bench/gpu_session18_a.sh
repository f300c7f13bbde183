#!/usr/bin/env bash
# Session 18, run a (H200): session 17's prepared load ablation (bench/gemv_loads_next.sh), then the kernel table on
# the current tree (session 17's K-tail change was not yet in a table).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
bash bench/gemv_loads_next.sh
timeout 220 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" > $OUT/kernels.txt; head -60 $OUT/kernels.txt
