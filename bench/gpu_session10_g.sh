#!/usr/bin/env bash
# Session 10, run g (H200): the final code (the 17-64 rows per expert tile now 64/128/64 with scales a step
# ahead, run f): GPU MoE tests at real sizes (300 and 1024 tokens run the new tile) and end to end; the kernel
# table; the engine benchmark with getp.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "real_sizes or e2e" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | head -20
timeout 150 python3 -m moechat.kernels.bench 2>&1 | grep -E "^device|^kernel|^moe|^route" | tee $OUT/kernels.txt
timeout 170 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench.txt
