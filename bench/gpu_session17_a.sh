#!/usr/bin/env bash
# Session 17, run a (H200): (1) session 16's prepared split of the one-token GEMVs (gemv_memory_side.sh: the dot
# PTX replaced by XORs, every load kept); (2) the up GEMV asking its pair's down expert into L2 (L2_NEXT 1: before
# its loop, 2: after) against HEAD's kernels (.data/s17head), whole call at 1-2 tokens, and the engine's batch-1
# step per kernel against HEAD (.data/prev17); (3) the GPU tests of the GEMV paths.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
bash bench/gemv_memory_side.sh
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
D="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80}"
U="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3"
W="$G, \"BN\": 8, \"BK\": 512"
for rep in 1 2; do
  timeout 100 python3 bench/moe_module_ab.py .data/s17head_moe_triton.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$U, \"L2_NEXT\": 0}, $D]" --tile "[$U, \"L2_NEXT\": 1}, $D]" --tile "[$U, \"L2_NEXT\": 2}, $D]" \
    2>&1 | grep -v "Warn\|warn" | tee -a $OUT/l2.txt
  timeout 60 python3 bench/moe_module_ab.py .data/s17head_moe_triton.py moechat/kernels/moe_triton.py --sizes 2 \
    --tile "[$W, \"L2_NEXT\": 1}, $W}]" 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/l2.txt
done
for tree in . .data/prev17 . .data/prev17; do
  echo "== profile_decode $tree"
  (cd $tree && PYTHONPATH=$PWD timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | head -6)
done 2>&1 | tee $OUT/profile_l2.txt
T=tests/test_kernels_moe.py
timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider "$T::test_gpu_moe_real_sizes[1]" \
  "$T::test_gpu_moe_real_sizes[2]" "$T::test_gpu_moe_120b_experts[1]" "$T::test_gpu_moe_gemv_activation_range" \
  2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
