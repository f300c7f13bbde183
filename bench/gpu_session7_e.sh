#!/usr/bin/env bash
# Session 7, run e (H200): the GPU tests run d's 150 s cut short (MoE tiles and dequantizations), end to end
# (Triton == reference engine) and graph replay == eager, on the final 8-row GEMV defaults.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 280 python3 -m pytest -v -m gpu tests/test_kernels_e2e.py tests/test_cuda_graphs.py tests/test_kernels_moe.py \
  -p no:cacheprovider -k "e2e or graph or tiles_and_dequant" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | tee $OUT/pytest.txt
