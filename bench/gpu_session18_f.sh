#!/usr/bin/env bash
# Session 18, run f (H200), on the final tree: the engine benchmark (its times to first token now medians of 3,
# first run on a GPU) and the kernel table.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 230 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench.txt
timeout 240 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" > $OUT/kernels.txt
grep -iE "device|moe|route|linear |decode|prefill" $OUT/kernels.txt | head -40
