#!/usr/bin/env bash
# Session 15, run a (H200): fewer barriers and fences a K step in the Gluon MoE (variants in .data/, made by
# bench/NOTES.md session 15 section 1's recipe): s14c = the ring as 4 separate slot buffers (4 steps an iteration,
# static slots); s15nob = s14c without the explicit barrier (Triton's one barrier a step left); s15nof = s15nob
# without the proxy fence (as Triton's own cp.async + wgmma pipelines compile); s15tnof = this tree without either;
# s15nofm = s15nof with the activation rows past an expert's masked (zero-filled, not read); then 64-row weight
# tiles (96 registers: 5 programs per SM; 128: 4) on the tree and the fence-free variants.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s14c_moe_triton.py \
  .data/s15nob_moe_triton.py .data/s15nof_moe_triton.py .data/s15tnof_moe_triton.py .data/s15nofm_moe_triton.py \
  --sizes 256 1024 2>&1 | grep -v Warn | tee $OUT/ab1.txt
tiles=()
for cap in 96 128; do
  tiles+=(--tile "{\"WGMMA\": {\"BW\": 64, \"BT\": 64, \"STAGES\": 4, \"HALF\": true, \"maxnreg\": $cap}}")
done
timeout 220 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s15nof_moe_triton.py \
  .data/s15nofm_moe_triton.py --sizes 256 1024 "${tiles[@]}" 2>&1 | grep -v Warn | tee $OUT/ab2.txt
# the tree's candidate (.data/s15cand_moe_wgmma.py: s15nof for any STAGES, the scales rotated through _k_step) in
# the tree's place on the device: the Gluon GPU tests
cp .data/s15cand_moe_wgmma.py moechat/kernels/moe_wgmma.py
timeout 110 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k wgmma 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head
