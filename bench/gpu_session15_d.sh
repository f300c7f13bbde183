#!/usr/bin/env bash
# Session 15, run d (H200): the 64-row masked tiles against the 128-row ones at 16-64 rows per expert (T=128, 512:
# where _configs now switches), and Nsight Compute on the 256-token Gluon kernels (what they wait on now).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 90 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 128 512 256 \
  --tile '{"WGMMA": {"BW": 128, "BT": 64, "STAGES": 4, "HALF": true, "maxnreg": 168}}' 2>&1 | grep -v Warn | tee $OUT/ab.txt
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for skip in 6 7; do
  echo "== T=256 _moe_wgmma_kernel launch-skip $skip (even: up, odd: down)" | tee -a $OUT/ncu.txt
  timeout 100 $NCU --clock-control none --kernel-name _moe_wgmma_kernel --launch-skip $skip --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active,lts__t_sectors_srcunit_tex_op_read.sum,lts__throughput.avg.pct_of_peak_sustained_elapsed,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum \
    python3 bench/ncu_moe.py 256 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" \
    | grep -E "^\s+[a-zA-Z][A-Za-z_ /%\-\(\)\.]+ {2,}" | grep -v " 0$\| 0\.0[0-9]$\| 0\.[01][0-9]$" | cut -c1-110 \
    | tee -a $OUT/ncu.txt | grep -E "stalled|Duration|DRAM Through|L2 Cache Through|Issue Slots|Eligible|Active Warps|lts__|pipe_(alu|fma|lsu|tensor)|Achieved Occ|Theoretical Occ|Block Limit"
done
