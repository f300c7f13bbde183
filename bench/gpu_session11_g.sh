#!/usr/bin/env bash
# Session 11, run g (H200): the final code (up GEMV PIPE 3 for one token, down GEMV unpipelined as run f found it
# level): GPU MoE tests (real sizes include pipelined GEMV tiles) and the single-stream benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "real_sizes or activation_range or e2e" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | head -20
timeout 120 python3 -m moechat bench --model synthetic:gpt-oss-20b --decode-only 2>&1 | grep -E "device|decode_|roofline"
