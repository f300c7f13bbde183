#!/usr/bin/env bash
# Session 14, run c (H200): the dequantization's PTX with half the integer-pipe instructions (low nibbles: two left
# shifts and one mask; high nibbles: prmt's sign replication, one shift and one mask) against session 13's
# (.data/s14old_*.py: this tree's kernels on the old PTX); GPU tests on it; Nsight Compute on the Gluon kernels at
# 256 tokens (what they wait on); the engine benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 170 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "wgmma or real_sizes or tiles_and_dequant or e2e" 2>&1 | grep -E "passed|failed|Error|assert " | head -20
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s14old_moe_triton.py \
  --sizes 8 64 256 1024 8192 256 2>&1 | grep -v Warn | tee $OUT/ab.txt
# the Gluon kernel at 1-16 rows per expert (Triton tiles there; run b: 128 x 16, 4 stages 224.3 us at T=64 vs 231.5)
tiles=()
for t in '"BT": 16, "STAGES": 4' '"BT": 16, "STAGES": 3, "maxnreg": 128' '"BT": 8, "STAGES": 4'; do
  tiles+=(--tile "{\"WGMMA\": {\"BW\": 128, $t}}")
done
timeout 90 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 8 64 "${tiles[@]}" 2>&1 | grep -v Warn \
  | tee $OUT/small.txt
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for skip in 6 7; do
  echo "== T=256 _moe_wgmma_kernel launch-skip $skip (even: up, odd: down)"
  timeout 100 $NCU --clock-control none --kernel-name _moe_wgmma_kernel --launch-skip $skip --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
    --section ComputeWorkloadAnalysis \
    --metrics regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active \
    python3 bench/ncu_moe.py 256 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" \
    | grep -E "^\s+[a-zA-Z][A-Za-z_ /%\-\(\)\.]+ {2,}" | grep -v " 0$\| 0\.0[0-9]$\| 0\.[01][0-9]$" | cut -c1-110 \
    | tee -a $OUT/ncu.txt
done
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench.txt
