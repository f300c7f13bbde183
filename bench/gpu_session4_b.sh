#!/usr/bin/env bash
# Session 4, second device run: read probe (row-major vs tile-blocked bytes), decode MoE tile variants, the
# decode linear kernels against cuBLAS, engine bench (new GEMV tiles, few-row MMA band at batch 8), GPU tests.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 bench/moe_decode_variants.py 1 8 2>&1 | grep -v Warn
timeout 150 python3 -c "from moechat.kernels import bench; print('\n'.join(bench.sweep_linear()))" 2>&1 | grep -E "cuBLAS|T=8|Error" | sort -t: -k2 -n | head -30
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft"
timeout 150 python3 -m pytest -q -m gpu tests/test_kernels_linear.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py "tests/test_kernels_moe.py::test_gpu_moe_tiles_and_dequant[1]" -p no:cacheprovider 2>&1 | tail -4
