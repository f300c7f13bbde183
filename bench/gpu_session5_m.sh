#!/usr/bin/env bash
# Session 5, thirteenth device run: the 64-row down tile at 512-2048 tokens, in the engine.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py -p no:cacheprovider -k "real_sizes or e2e" 2>&1 | tail -1
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
