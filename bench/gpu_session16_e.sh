#!/usr/bin/env bash
# Session 16, runs e and f (H200): the decode GEMVs' PTX summing each 32-weight group in the PTX (run e: one f16x2
# chain of 16, wired wrong; run f: 4 chains added lane-wise, one horizontal add a group instead of one a word
# plus the group sum): GPU tests of the GEMV paths, whole MoE call at
# 1-2 tokens against HEAD's kernels (.data/s16base), the engine's batch-1 step per kernel against HEAD (.data/prev16).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
T=tests/test_kernels_moe.py
timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider "$T::test_gpu_moe_real_sizes[1]" \
  "$T::test_gpu_moe_real_sizes[2]" "$T::test_gpu_moe_120b_experts[1]" "$T::test_gpu_moe_gemv_activation_range" \
  "$T::test_gpu_moe_sm80_paths" "$T::test_gpu_moe_tiles_and_dequant[1]" 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head
for rep in 1 2 3; do
  timeout 60 python3 bench/moe_module_ab.py .data/s16base_moe_triton.py moechat/kernels/moe_triton.py --sizes 1 2 \
    2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
for tree in . .data/prev16 . .data/prev16; do
  echo "== profile_decode $tree"
  (cd $tree && PYTHONPATH=$PWD timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | head -6)
done 2>&1 | tee $OUT/profile.txt
