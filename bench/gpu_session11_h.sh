#!/usr/bin/env bash
# Session 11, run h (H200): both one-token GEMVs in one launch (.data/fused_moe_triton.py: programs draw tickets in
# the order they start, the first tiles x pairs do up tiles, the rest down tiles that wait on their pair's arrival
# count), against this tree: whole call (output difference should be 0) and the engine's batch-1 step.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/fused_moe_triton.py --sizes 1 1 2 2>&1 \
  | grep -v Warn
mkdir -p /tmp/alt && cp -r moechat bench /tmp/alt/ && cp .data/fused_moe_triton.py /tmp/alt/moechat/kernels/moe_triton.py
for tree in /tmp/alt $PWD; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 60 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v Warn | grep -E "kernels per|gemv|fused")
done
