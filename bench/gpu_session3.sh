#!/usr/bin/env bash
# Session 3, first device run: MoE scale prefetch (kernel table, GPU tests), engine bench, decode and 8k prefill profiles.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m moechat.kernels.bench 2>&1 | grep -v Warn | tail -30
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -20
timeout 120 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider 2>&1 | tail -3
timeout 80 python3 bench/profile_decode.py 2>&1 | tail -27
timeout 80 python3 bench/profile_decode.py --prefill 8192 --steps 3 2>&1 | tail -26
