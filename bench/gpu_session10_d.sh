#!/usr/bin/env bash
# Session 10, run d (H200): run c's Nsight Compute found the 256-token MMA tiles at 2 blocks (8 warps) per SM,
# limited by registers (254) and shared memory (83 KB): 1.9 active and 0.46 eligible warps per scheduler, issue
# 0.36. Tiles with more warps per SM (compiled here: swapped 64/128/128 with 8 warps fits 128 registers without
# spills), at 256 and 1024 tokens; then run c's GEMV profiles again, written whole to $OUT.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 330 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 1024 \
  --tile '{"BM": 64, "BN": 128, "BK": 128, "num_warps": 8, "num_stages": 3, "S32": true, "SWAP": true}' \
  --tile '{"BM": 64, "BN": 128, "BK": 128, "num_warps": 8, "num_stages": 3, "S32": true, "SWAP": true, "maxnreg": 128}' \
  --tile '{"BM": 64, "BN": 128, "BK": 128, "num_warps": 8, "num_stages": 3, "S32": true, "maxnreg": 128}' \
  --tile '{"BM": 32, "BN": 128, "BK": 128, "num_warps": 4, "num_stages": 3, "S32": true, "SWAP": true}' \
  --tile '{"BM": 64, "BN": 128, "BK": 64, "num_warps": 4, "num_stages": 4}' \
  --tile '{"BM": 64, "BN": 128, "BK": 64, "num_warps": 4, "num_stages": 3}' \
  --tile '{"BM": 64, "BN": 128, "BK": 64, "num_warps": 8, "num_stages": 4, "SWAP": true, "maxnreg": 128}' \
  --tile '{"BM": 32, "BN": 128, "BK": 128, "num_warps": 8, "num_stages": 3, "S32": true, "SWAP": true, "maxnreg": 128}' \
  2>&1 | grep -v Warn
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for k in _moe_up_gemv_kernel _moe_down_gemv_kernel; do
  timeout 100 $NCU --clock-control none --kernel-name $k --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum \
    python3 bench/ncu_moe.py 1 --ncu > $OUT/ncu_$k.txt 2>&1
done
