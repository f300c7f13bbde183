#!/usr/bin/env bash
# Session 3 device run 3: Nsight Compute on the decode MoE kernels (if the machine has ncu), GPU tests.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
echo "ncu: ${NCU:-none}"
if [ -n "$NCU" ]; then
  for T in 1 8; do
    for K in up down; do
      timeout 90 $NCU --kernel-name regex:_moe_${K}_kernel --launch-skip 6 --launch-count 1 --section SpeedOfLight \
        --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis --section LaunchStats \
        --section SchedulerStats python3 bench/ncu_moe.py $T > $OUT/ncu_${K}_T$T.txt 2>&1
      grep -E "Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per|Warp Cycles Per Issued|Issued Warp|No Eligible|Block Limit|Stall|L2 Hit|Mem Busy|Max Bandwidth|ERR" $OUT/ncu_${K}_T$T.txt | head -24
    done
  done
fi
timeout 300 python3 -m pytest -q -m gpu tests/test_kernels_moe.py -k real_sizes tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider 2>&1 | grep -E "passed|failed|Error|assert" | head -20
