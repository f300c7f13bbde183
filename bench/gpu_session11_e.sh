#!/usr/bin/env bash
# Session 11, run e (H200): this tree (one token's GEMVs pipelined, PIPE 3: the planes as one 1-D load, scales as
# words) against .data/head_moe_triton.py (0eb0f2b's kernels): whole call at 1-2 tokens with pipelined tiles for two
# tokens, the engine's batch-1 step (both trees twice), the GPU MoE tests, the single-stream benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1, \"PIPE\": $3}"; }
timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/head_moe_triton.py --sizes 1 1 2 2 \
  --tile "[$(g 8 512 2), $(g 8 512 2)]" --tile "[$(g 8 512 3), $(g 8 512 3)]" --tile "[$(g 16 256 3), $(g 8 512 3)]" \
  2>&1 | grep -v "Warn\|TypeError\|KeyError" | sed 's/.GEMV.: True, //g; s/.num_warps.: 1, .num_stages.: 1, //g'
mkdir -p /tmp/alt && cp -r moechat bench /tmp/alt/ && cp .data/head_moe_triton.py /tmp/alt/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/alt $PWD /tmp/alt; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v Warn | grep -E "kernels per|gemv")
done
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "real_sizes or activation_range" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | head -20
timeout 120 python3 -m moechat bench --model synthetic:gpt-oss-20b --decode-only 2>&1 | grep -E "device|decode_|roofline"
