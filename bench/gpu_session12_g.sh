#!/usr/bin/env bash
# Session 12, run g (H200): the final code (one token's down GEMV in 4-row programs under 80 registers): GPU MoE
# tests and end to end, the whole call at 1-2 tokens, the single-stream benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "real_sizes or activation_range or sm80 or e2e" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed|assert" | head -20
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s11_moe_triton.py --sizes 1 1 2 \
  2>&1 | grep -v Warn
timeout 120 python3 -m moechat bench --model synthetic:gpt-oss-20b --decode-only 2>&1 | grep -E "device|decode_|roofline"
