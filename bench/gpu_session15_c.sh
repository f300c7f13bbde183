#!/usr/bin/env bash
# Session 15, runs c and f (H200), on this tree (run a's candidate with run b's 64-row masked tiles up to 64 rows per
# expert): the Gluon and end-to-end GPU tests, the engine benchmark, the kernel table.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 130 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "wgmma or e2e" 2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench.txt
timeout 240 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" > $OUT/kernels.txt; grep -i "moe" $OUT/kernels.txt
