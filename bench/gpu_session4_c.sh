#!/usr/bin/env bash
# Session 4, third device run: tl.dot_scaled MoE tiles (both operand orders) at decode and prefill sizes, the
# few-row linear's best tiles, GPU tests of the MoE (dot_scaled included), linear, e2e and graphs.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 280 python3 bench/moe_decode_variants.py 1 8 64 256 8192 2>&1 | grep -v Warn | sed "s/'num_//g"
timeout 120 python3 -c "from moechat.kernels import bench; print('\n'.join(bench.sweep_linear()))" 2>&1 | grep -E "T=8" | awk '{print $(NF-1), $0}' | sort -n | awk '!seen[$4]++ || n[$4]++ < 3' | head -12
timeout 280 python3 -m pytest -q -m gpu tests/test_kernels_linear.py tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | tail -4
