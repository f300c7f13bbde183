#!/usr/bin/env bash
# Session 15, run e (H200): the Gluon kernels at 8-16 rows per expert (T=64, 128; run d: at T=128 the 128-row Gluon
# tile took 218.5 us against the Triton tiles' 287.4), and run d's Nsight metrics whose values its cut dropped.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
tiles=()
for t in '128, "BT": 64, "HALF": true, "maxnreg": 168' '64, "BT": 64, "HALF": true, "MASK": true, "maxnreg": 128' \
         '128, "BT": 32, "HALF": true, "maxnreg": 168' '64, "BT": 32, "HALF": true, "MASK": true, "maxnreg": 128' \
         '128, "BT": 16, "maxnreg": 168' '64, "BT": 16, "MASK": true, "maxnreg": 128'; do
  tiles+=(--tile "{\"WGMMA\": {\"STAGES\": 4, \"BW\": $t}}")
done
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 128 64 96 "${tiles[@]}" 2>&1 \
  | grep -v Warn | tee $OUT/ab.txt
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for skip in 6 7; do
  echo "== T=256 _moe_wgmma_kernel launch-skip $skip (even: up, odd: down)" | tee -a $OUT/ncu.txt
  timeout 60 $NCU --clock-control none --kernel-name _moe_wgmma_kernel --launch-skip $skip --launch-count 1 \
    --section SpeedOfLight --section ComputeWorkloadAnalysis \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active,lts__throughput.avg.pct_of_peak_sustained_elapsed \
    python3 bench/ncu_moe.py 256 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" | tee -a $OUT/ncu.txt \
    | grep -E "stalled|Throughput|pipe_(alu|fma|fmaheavy|lsu|tensor_op_gmma)\.|lts__" | awk '{print $1, $NF}'
done
