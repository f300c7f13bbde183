#!/usr/bin/env bash
# Before the call: git show 409af1b:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 8, run d (H200): the word/plane GEMVs without prefetch (run b: no variant gained from it), the route's
# norm storing x's planes at decode (no planes kernel): GPU tests, the batch-1 decode step against the last
# commit's kernels, GEMV tiles at 1-2 tokens, the engine benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 250 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  tests/test_cuda_graphs.py -k "real_sizes or activation_range or tiles_and_dequant or e2e or graph" 2>&1 \
  | grep -E "PASS|FAIL|Error|passed|failed" | head -20
mkdir -p /tmp/old && cp -r moechat bench /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 100 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -12)
done
timeout 100 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-200
timeout 100 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 2>&1 | grep -v "Warn\|warn" | head -20
