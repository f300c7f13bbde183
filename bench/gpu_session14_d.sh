#!/usr/bin/env bash
# Session 14, run d (H200): the GPU tests on run c's PTX (run c's record of them was cut off), Nsight Compute's stall
# reasons and pipe use for the Gluon kernels at 256 tokens (run c's values were cut off), and 32-row tiles under a
# 128-register cap (4 programs per SM instead of 3) against the default 64-row HALF tiles at 168.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 170 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "wgmma or real_sizes or tiles_and_dequant or e2e" 2>&1 | tee $OUT/tests.txt \
  | grep -E "passed|failed|Error|assert " | head -20
tiles=()
for t in '32, "STAGES": 3, "maxnreg": 128' '32, "STAGES": 4, "maxnreg": 128' '64, "STAGES": 3, "HALF": true, "maxnreg": 128'; do
  tiles+=(--tile "{\"WGMMA\": {\"BW\": 128, \"BT\": $t}}")
done
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 1024 256 "${tiles[@]}" 2>&1 \
  | grep -v Warn | tee $OUT/tiles.txt
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for skip in 6 7; do
  echo "== T=256 _moe_wgmma_kernel launch-skip $skip (even: up, odd: down)"
  timeout 100 $NCU --clock-control none --kernel-name _moe_wgmma_kernel --launch-skip $skip --launch-count 1 \
    --section SpeedOfLight --section WarpStateStats --section SchedulerStats \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active \
    python3 bench/ncu_moe.py 256 --ncu 2>&1 | tee -a $OUT/ncu.txt \
    | grep -E "stalled|pipe_[a-z_]*\.avg|inst_executed.sum|Issue Slots|Eligible Warps|Active Warps|DRAM Throughput|Duration" \
    | awk '$NF != "0" && $NF+0 >= 0.05 {print $1, $NF}'
done
