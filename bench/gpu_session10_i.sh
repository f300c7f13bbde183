#!/usr/bin/env bash
# Session 10, run i (H200): run h's up GEMV 16/256/1 at one token (28.1 against 29.6 us, once) repeated, and in
# the engine's batch-1 step: .data/up16_moe_triton.py = this tree's moe_triton.py with that up tile for <= 4 pairs.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/up16_moe_triton.py --sizes 1 1 1 2 \
  2>&1 | grep -v Warn
mkdir -p /tmp/alt && cp -r moechat bench /tmp/alt/ && cp .data/up16_moe_triton.py /tmp/alt/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/alt $PWD /tmp/alt; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 60 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v Warn | head -4)
done
