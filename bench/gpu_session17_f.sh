#!/usr/bin/env bash
# Session 17, run f (H200), on the final tree (no kernel change landed this session): Nsight Compute on the one-token
# GEMVs as the dispatch picks them (for the closing note's "what holds batch 1 back"), the kernel table, the GPU tests.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for k in _moe_up_gemv_kernel _moe_down_gemv_kernel; do
  echo "== T=1 $k"
  timeout 80 $NCU --clock-control none --kernel-name $k --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
    --section MemoryWorkloadAnalysis \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum \
    python3 bench/ncu_moe.py 1 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" \
    | grep -E "^\s+[a-zA-Z][A-Za-z_ /%\-\(\)\.]+ {2,}" | grep -v " 0$\| 0\.0[0-9]$\| 0\.[01][0-9]$" | cut -c1-110
done 2>&1 | tee $OUT/ncu.txt | grep -E "==|Duration|DRAM Throughput|Issue Slots Busy|Active Warps Per|Eligible Warps|long_scoreboard|Achieved Occ"
timeout 220 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn" > $OUT/kernels.txt; cat $OUT/kernels.txt | head -60
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/ 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head
