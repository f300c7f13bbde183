#!/usr/bin/env bash
# Session 16, run d (H200): the MoE at gpt-oss-120b's 128 experts against the reference (new GPU test) with the
# real-size tests; the engine benchmark on synthetic:gpt-oss-120b (last run in session 9, before the Gluon MoE).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 220 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k "120b or real_sizes" \
  2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
timeout 330 python3 -m moechat bench --model synthetic:gpt-oss-120b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench120b.txt
