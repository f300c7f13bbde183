#!/usr/bin/env bash
# Session 8, run c (H200): Nsight Compute on the decode up and down GEMVs (one token, gpt-oss-20b sizes, caches
# flushed before each replay, clocks left free): every variant of run b ran 20.7-21.3 us (up) whatever its tile,
# registers or prefetch, so what binds it is not per-warp latency; where do the cycles go?
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for k in _moe_up_gemv_kernel _moe_down_gemv_kernel; do
  timeout 200 $NCU --clock-control none --kernel-name $k --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section SchedulerStats \
    python3 bench/ncu_moe.py 1 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" | grep -E "^\s+[A-Z][A-Za-z /%\-\(\)\.]+ {2,}" | cut -c1-110
done
