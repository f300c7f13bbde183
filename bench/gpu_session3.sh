#!/usr/bin/env bash
# Session 3 device runs: MoE dequant variants (kernel table, GPU tests), engine bench, decode profile.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 110 python3 -m moechat.kernels.bench 2>&1 | grep -v Warn | grep -E "moe|route|device|copy|bf16" | head -40
timeout 220 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider 2>&1 | grep -E "passed|failed|Error|assert" | head -20
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -20
timeout 80 python3 bench/profile_decode.py 2>&1 | tail -22
