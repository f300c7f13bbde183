#!/usr/bin/env bash
# Session 3 final device run: decode profiles (batch 1 and 8), engine benchmark (20b with getp, 120b decode), GPU tests.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
for B in 1 8; do timeout 90 python3 bench/profile_decode.py --batch $B 2>&1 | grep -E "_moe_|_rmsnorm|graph replay"; done
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -30
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only --json $OUT/bench120b.json 2>&1 | tail -8
timeout 120 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | grep -E "passed|failed|Error|assert" | head
