#!/usr/bin/env bash
# Session 8, run g (H200): the final code (word/plane GEMVs; row-major experts on GPUs other than the H100): GPU
# tests of the MoE, the route, end to end and graph replay; the engine benchmark with getp; gpt-oss-120b.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  tests/test_cuda_graphs.py -k "real_sizes or activation_range or e2e or graph" 2>&1 \
  | grep -E "PASS|FAIL|Error|passed|failed" | head -20
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn"
timeout 100 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only 2>&1 | grep -E "device|decode_"
