#!/usr/bin/env bash
# Session 4, first device run: the changes left unmeasured by session 3 (engine bench, GPU tests), the decode
# profile, and the decode MoE variants (up GEMM split over K, raw read ceiling).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 bench/moe_decode_variants.py 1 8 2>&1 | grep -v Warn
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -20
timeout 60 python3 bench/profile_decode.py 2>&1 | head -30
timeout 150 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py tests/test_kernels_linear.py -p no:cacheprovider -k "real_sizes or e2e or graph or gemv or tiles_and" 2>&1 | grep -E "passed|failed|Error|assert" | head
