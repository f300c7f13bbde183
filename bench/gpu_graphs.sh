#!/usr/bin/env bash
# Issue 5 on the device: graph replay vs eager tests, the e2e kernel test, then the engine benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
M="--model synthetic:gpt-oss-20b --dtype bfloat16"
python3 -m pytest -q -m gpu tests/test_cuda_graphs.py tests/test_kernels_e2e.py -p no:cacheprovider 2>&1 | tail -15
python3 -m moechat bench $M --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench.json
