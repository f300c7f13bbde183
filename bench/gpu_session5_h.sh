#!/usr/bin/env bash
# Session 5, eighth device run: one-row GEMV tiles with longer K steps; engine after the graph trims.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 100 python3 -m pytest -q -m gpu tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "e2e or graph" 2>&1 | tail -2
timeout 240 python3 bench/gemv_sweep.py 2>&1 | grep -v -i warn
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
