#!/usr/bin/env bash
# Session 17, run g (H200): each one-token GEMV program waited two more memory round trips after its loop (the SASS
# of the up GEMV: the masked K-tail step's loads, then the bias): the pipelined GEMV now asks for its tail's
# operands (a 64-column step instead of a masked 256) and the bias before its loop. Whole call at 1-2 tokens against
# HEAD's kernels (.data/s17head), the engine's batch-1 step per kernel against HEAD (.data/prev17), the GPU tests of
# the GEMV paths, every GEMV tile against the reference.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
T=tests/test_kernels_moe.py
timeout 100 python3 -m pytest -q -m gpu -p no:cacheprovider "$T::test_gpu_moe_real_sizes[1]" \
  "$T::test_gpu_moe_real_sizes[2]" "$T::test_gpu_moe_120b_experts[1]" "$T::test_gpu_moe_gemv_activation_range" \
  "$T::test_gpu_moe_sm80_paths" 2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
timeout 60 python3 bench/gemv_tiles_check.py 2>&1 | grep -v "Warn\|warn" | tee $OUT/tiles.txt | tail -12
for rep in 1 2 3; do
  timeout 60 python3 bench/moe_module_ab.py .data/s17head_moe_triton.py moechat/kernels/moe_triton.py --sizes 1 2 \
    2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
for tree in . .data/prev17 . .data/prev17; do
  echo "== profile_decode $tree"
  (cd $tree && PYTHONPATH=$PWD timeout 80 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | head -6)
done 2>&1 | tee $OUT/profile.txt
