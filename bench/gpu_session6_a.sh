#!/usr/bin/env bash
# Session 6, first device run: the session-5 review mend on the GPU, then CUDA-core GEMV tiles for the decode MoE.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 240 python3 -m pytest -q -m "gpu or not gpu" tests/test_kernels_moe.py tests/test_kernels_linear.py \
  tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider \
  -k "real_sizes or e2e or graph or route or tiles or blocked or group" 2>&1 | tail -3
timeout 300 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn
