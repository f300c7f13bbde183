#!/usr/bin/env bash
# Session 5, ninth device run: one-split decode attention for the sliding window (no combine kernel).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_attention.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | tail -2
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
MOECHAT_PDL=0 timeout 120 python3 bench/profile_decode.py 2>&1 | grep -v Warn | grep -E "decode|combine|kernels per step|replay"
