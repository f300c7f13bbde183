#!/usr/bin/env bash
# Session 5 final device run, part A: GPU tests at real sizes and end to end; the kernel table.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 -m pytest -q -m gpu tests/test_kernels_norm_rope.py tests/test_kernels_attention.py tests/test_kernels_linear.py tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph or route" 2>&1 | tail -2
timeout 250 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn"
