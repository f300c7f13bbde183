#!/usr/bin/env bash
# Session 5, sixth device run: qkv + RoPE for 1-8 rows; where a real decode step's GPU time goes.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_linear.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | tail -2
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
timeout 150 python3 bench/profile_host.py --batch 1 8 --tokens 48 --timeline 2>&1 | grep -v -i warn
MOECHAT_PDL=0 timeout 120 python3 bench/profile_decode.py --batch 8 2>&1 | grep -v Warn | head -14
