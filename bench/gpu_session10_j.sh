#!/usr/bin/env bash
# Session 10, run j (H200): the final code (run i's up GEMV tile for one token in _configs): GPU MoE tests at real
# sizes and the GEMVs' activation range; the single-stream benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "real_sizes or activation_range" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | head -20
timeout 120 python3 -m moechat bench --model synthetic:gpt-oss-20b --decode-only 2>&1 | grep -E "device|decode_|roofline"
