#!/usr/bin/env bash
# Session 2 final device run: engine benchmark (20b with chat turns and getp, 120b decode), GPU tests, paths check.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -30
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only --json $OUT/bench120b.json 2>&1 | tail -12
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider 2>&1 | tail -3
