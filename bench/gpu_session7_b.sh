#!/usr/bin/env bash
# Before the call: git show 4593e2f:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 7, run b (H200): per-kernel times of a batch-1 decode step in the engine with this tree's MoE GEMVs and
# the last commit's (run a: engine 511.7 against 502.7 tok/s, while the variants put the bf16 GEMVs 15 us a layer
# slower); GEMV pipelining variants at one token; the kernel table.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
mkdir -p /tmp/old && cp -r moechat bench /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 120 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -16)
done
timeout 120 python3 bench/moe_decode_variants.py 1 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" | cut -c1-200
timeout 300 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" | tee $OUT/kernels.txt
