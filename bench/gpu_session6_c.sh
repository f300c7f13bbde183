#!/usr/bin/env bash
# Session 6, third device run: the GEMV path as the 1-2 token default: GPU tests, then the engine (single stream,
# batch 8) and the kernel table's MoE rows.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 330 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py \
  -p no:cacheprovider -k "real_sizes or tiles_and_dequant or e2e or graph" > $OUT/pytest.txt 2>&1; tail -1 $OUT/pytest.txt
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 \
  | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
