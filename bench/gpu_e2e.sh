#!/usr/bin/env bash
# Issue 5 on the device: GPU tests (graphs, kernels, e2e), then the engine benchmark on 20b and 120b.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 -m pytest -q -m gpu tests -p no:cacheprovider 2>&1 | tail -4
python3 -m moechat bench --model synthetic:gpt-oss-20b --dtype bfloat16 --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json
python3 -m moechat bench --model synthetic:gpt-oss-120b --dtype bfloat16 --decode-only --json $OUT/bench120b.json
nvidia-smi --query-gpu=memory.used --format=csv
