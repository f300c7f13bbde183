#!/usr/bin/env bash
# Session 4, fifth device run: packed MoE weights in 16-row blocks of 1 KB chunks (block_rows) against row-major
# rows, at decode and prefill sizes; engine bench; GPU tests (MoE at real sizes in both layouts, e2e, graphs).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 bench/moe_decode_variants.py 1 8 64 256 8192 --probe 2>&1 | grep -v Warn | sed "s/'num_//g"
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap"
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | tail -3
