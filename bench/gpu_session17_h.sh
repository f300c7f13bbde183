#!/usr/bin/env bash
# Session 17, run h (H200): run g's change kept for pipelined GEMV loops only (the unpipelined ones' SASS now equal
# HEAD's): whole call at 1-2 tokens against HEAD's kernels (.data/s17head), GPU tests of the GEMV paths, GEMV tiles.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
for rep in 1 2; do
  timeout 50 python3 bench/moe_module_ab.py .data/s17head_moe_triton.py moechat/kernels/moe_triton.py --sizes 1 2 \
    2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
T=tests/test_kernels_moe.py
timeout 60 python3 -m pytest -q -m gpu -p no:cacheprovider "$T::test_gpu_moe_real_sizes[1]" \
  "$T::test_gpu_moe_real_sizes[2]" "$T::test_gpu_moe_gemv_activation_range" 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head
timeout 40 python3 bench/gemv_tiles_check.py 2>&1 | grep -v "Warn\|warn" | tee $OUT/tiles.txt | grep -c ok
