#!/usr/bin/env bash
# Session 12, run d (H200): Nsight Compute on the final code's MoE kernels, for the closing note's "what holds it
# back": one token's GEMVs (the up GEMV pipelined since session 11) and the 256-token up tile; speed of light,
# occupancy, issue rate and stall reasons per issued instruction (caches flushed per launch, clocks free).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for run in "1 _moe_up_gemv_kernel" "1 _moe_down_gemv_kernel" "256 _moe_up_kernel"; do
  set -- $run
  echo "== T=$1 $2"
  timeout 150 $NCU --clock-control none --kernel-name $2 --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
    --section MemoryWorkloadAnalysis \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum \
    python3 bench/ncu_moe.py $1 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" \
    | grep -E "^\s+[a-zA-Z][A-Za-z_ /%\-\(\)\.]+ {2,}" | grep -v " 0$\| 0\.0[0-9]$\| 0\.[01][0-9]$" | cut -c1-110
done
