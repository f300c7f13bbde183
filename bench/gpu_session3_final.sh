#!/usr/bin/env bash
# Session 3 final device run: 8k prefill wall vs kernel time, engine benchmark (20b with chat turns and getp), GPU tests.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 100 python3 bench/profile_decode.py --prefill 8192 --steps 3 2>&1 | grep "kernels per step"
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -30
timeout 120 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | grep -E "passed|failed|Error|assert" | head
