#!/usr/bin/env bash
# Session 11, run c (H200): is the e4m3 -> f16x2 conversion (F2FP, a slow pipe on Hopper) what holds the decode GEMVs
# back? .data/nocvt_moe_triton.py drops the conversions (wrong values: the ceiling of removing them);
# .data/prmt_moe_triton.py builds the same f16 values without them: each nibble into an f16 high byte (e2m1 * 2^-14),
# spread into f16x2 lanes by prmt, times 2^8 (HMUL2, on the idle FMA pipe); its output should equal this tree's.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/prmt_moe_triton.py \
  .data/nocvt_moe_triton.py --sizes 1 1 2 2>&1 | grep -v Warn
mkdir -p /tmp/alt && cp -r moechat bench /tmp/alt/ && cp .data/prmt_moe_triton.py /tmp/alt/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/alt $PWD /tmp/alt; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v Warn | head -5)
done
