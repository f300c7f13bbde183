#!/usr/bin/env bash
# Before the call: git show f971e1e:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 9, run a (H200): the GEMVs' e4m3 conversions (db12818): GPU MoE tests (the cvt's byte order), the
# batch-1 decode step against f971e1e's kernels, GEMV tiles at one token.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "real_sizes or activation_range or tiles_and_dequant or e2e" 2>&1 | grep -E "PASS|FAIL|Error|assert|passed|failed" | head -30
mkdir -p /tmp/old && cp -r moechat bench /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 100 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -10)
done
timeout 120 python3 bench/moe_decode_variants.py 1 --rows 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-200
