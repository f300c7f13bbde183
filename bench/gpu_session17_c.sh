#!/usr/bin/env bash
# Session 17, run c (H200): run b found the one-token up GEMV's plane loads and the GEMVs' scale loads ~1.1-1.4 us
# each. Variants (.data copies of moe_triton.py): s17ca, the pipelined planes as 8-byte copies (cp.async.ca: through
# L1, where the 11 programs of an SM share them; 16-byte copies bypass it); s17s32, the unpipelined down GEMV's scales
# as words; both. Whole call at 1-2 tokens, then the engine's batch-1 step per kernel, s17ca's tree (.data/t17ca).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
for rep in 1 2 3; do
  timeout 90 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s17ca_moe_triton.py \
    .data/s17s32_moe_triton.py .data/s17cas32_moe_triton.py --sizes 1 2 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
for tree in . .data/t17ca . .data/t17ca; do
  echo "== profile_decode $tree"
  (cd $tree && PYTHONPATH=$PWD timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | head -6)
done 2>&1 | tee $OUT/profile.txt
