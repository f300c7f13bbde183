#!/usr/bin/env bash
# Session 18, run e (H200): the decode GEMVs' first K step's weights loaded before their wait: this tree (the linear
# GEMVs and the one-token down GEMV), .data/nofirst (the linear GEMVs only), .data/prev18b (neither; the route's
# preload in all three): the batch-1 decode step's kernels, twice each; then the GPU tests of those paths.
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
for rep in 1 2; do
  for tree in $PWD $PWD/.data/nofirst $PWD/.data/prev18b; do
    echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 \
      | grep -v "Warn\|warn" | grep -E "kernels per|gemv|graph replay")
  done
done 2>&1 | tee $OUT/profile.txt
T=tests/test_kernels_moe.py
PYTHONPATH=$PWD timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_linear.py \
  "$T::test_gpu_moe_real_sizes[1]" "$T::test_gpu_moe_real_sizes[2]" "$T::test_gpu_moe_gemv_activation_range" \
  "$T::test_gpu_moe_120b_experts[1]" tests/test_cuda_graphs.py tests/test_kernels_e2e.py 2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
