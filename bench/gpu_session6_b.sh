#!/usr/bin/env bash
# Session 6, second device run: GEMV tiles (warps, K step, bytes a step ahead) for the decode MoE.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 240 python3 -m pytest -q -m "gpu or not gpu" tests/test_kernels_moe.py tests/test_kernels_linear.py \
  tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider \
  -k "real_sizes or e2e or graph or route or tiles or blocked or group" > $OUT/pytest.txt 2>&1; tail -1 $OUT/pytest.txt
timeout 300 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn | sed -e "s/'num_stages': 1, //g" -e "s/'GEMV': True, //g"
