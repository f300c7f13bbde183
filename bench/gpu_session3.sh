#!/usr/bin/env bash
# Session 3 device run 5: decode tiles with split-K down (engine bench, GPU tests), prefill MoE tile variants.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -20
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | grep -E "passed|failed|Error|assert" | head -20
for V in '{}|{}' '{"BM":256,"BN":128}|{}' '{"AHEAD":true}|{}' '{"num_stages":4}|{"num_stages":4}' \
         '{"BK":64,"S32":false,"AHEAD":true}|{}' '{}|{"BK":128,"S32":true,"AHEAD":false}' \
         '{}|{"BK":128,"S32":true,"AHEAD":true}' '{}|{"BM":128,"BN":256}' \
         '{"BM":256,"BN":128,"BK":64,"S32":false,"AHEAD":true}|{}'; do
  timeout 40 python3 bench/ncu_moe.py 8192 --up "${V%%|*}" --down "${V##*|}" 2>&1 | grep -E "^T=|Error" | tail -1
done
