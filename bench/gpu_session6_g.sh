#!/usr/bin/env bash
# Session 6, run g: GEMV columns past the last whole K step in unmasked steps of halving width (256 + 64 for the
# down GEMM's 320), against the masked full-width step: GEMV tiles at T=1, then the engine.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m pytest -q -m gpu tests/test_kernels_moe.py -p no:cacheprovider -k "moe_real_sizes" 2>&1 | tail -1
timeout 120 python3 bench/moe_decode_variants.py 1 --blocked 2>&1 | grep -v Warn | sed -e "s/'num_stages': 1, //g" -e "s/'GEMV': True, //g"
timeout 170 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 \
  | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch"
