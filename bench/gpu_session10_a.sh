#!/usr/bin/env bash
# Session 10, run a (H200). Before the call (carry .data): .data/head_moe_triton.py = this tree's moe_triton.py;
# .data/route_moe_triton.py = it with 194720c applied (the split route's add + norm in its logits loop);
# .data/join_moe_triton.py = non-swapped MMA tiles dequantize into one interleaved [BN, BK] tile (tl.join) and
# make one dot with the activations as loaded; .data/joinperm_moe_triton.py = the same with each 32-column group's
# low nibbles then high nibbles (timing only: right only for weights repacked that way, so its diff is ~1).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,clocks.max.sm --format=csv,noheader
mkdir -p /tmp/route && cp -r moechat bench tests pyproject.toml /tmp/route/ && cp .data/route_moe_triton.py /tmp/route/moechat/kernels/moe_triton.py
(cd /tmp/route && PYTHONPATH=/tmp/route timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "add_rmsnorm_route" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | head -10)
for tree in $PWD /tmp/route; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 100 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -12)
done
timeout 240 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/join_moe_triton.py \
  .data/joinperm_moe_triton.py 2>&1 | grep -v Warn
