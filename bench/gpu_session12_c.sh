#!/usr/bin/env bash
# Session 12, run c (H200): final figures on the final code: the kernel table (first since session 10) and the
# engine benchmark with getp.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" | tee $OUT/kernels.txt
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench.txt
