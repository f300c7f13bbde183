#!/usr/bin/env bash
# Before the call: git show 409af1b:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 8, run a (H200): the decode GEMVs reading packed 32-bit words and activation planes, each K step's loads
# issued a step ahead: correctness at real sizes, per-kernel times of a batch-1 decode step against the last
# commit's kernels, GEMV tile variants at 1-2 tokens, single stream.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider "tests/test_kernels_moe.py::test_gpu_moe_real_sizes[1]" \
  "tests/test_kernels_moe.py::test_gpu_moe_real_sizes[2]" tests/test_kernels_moe.py::test_gpu_moe_gemv_activation_range 2>&1 | grep -E "PASS|FAIL|Error|error|passed|failed|assert" | head -20
mkdir -p /tmp/old && cp -r moechat bench /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 120 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -16)
done
timeout 150 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-220
timeout 100 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 2>&1 | grep -v "Warn\|warn" | head -20
