#!/usr/bin/env bash
# Session 6, fourth device run: GEMV K tail in 32-column steps; each decode graph's argmax written over its token
# input (greedy rows need no op outside the graph, and no copy feeds them back). Tests, GEMV tiles, the engine.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py \
  -p no:cacheprovider -k "moe_real_sizes or e2e or graph" > $OUT/pytest.txt 2>&1; tail -1 $OUT/pytest.txt
timeout 120 python3 bench/moe_decode_variants.py 1 --blocked 2>&1 | grep -v Warn | sed -e "s/'num_stages': 1, //g" -e "s/'GEMV': True, //g"
timeout 170 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 \
  | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
