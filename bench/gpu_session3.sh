#!/usr/bin/env bash
# Session 3 device run 4: stall reasons of the decode MoE kernels (Nsight Compute), decode tile/split timings.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
for TK in "1 up" "1 down" "8 up"; do
  set -- $TK
  echo "== ncu T=$1 $2"
  timeout 60 ncu --kernel-name regex:_moe_$2_kernel --launch-skip 6 --launch-count 1 \
    --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__warps_active.avg.per_cycle_active,smsp__issue_active.avg.per_cycle_active" \
    python3 bench/ncu_moe.py $1 --ncu 2>&1 | grep -E "smsp__" | awk '$NF+0 > 0.05 {print $1, $NF}' | sort -k2 -nr | head -12
done
for T in 1 8; do
  for V in '{}|{}' '{}|{"SPLIT":2}' '{}|{"BN":32,"BK":128,"num_warps":4}' '{}|{"BN":32,"BK":128,"num_warps":4,"SPLIT":2}' \
           '{}|{"BN":64,"BK":64,"num_warps":4,"SPLIT":2}' '{}|{"BN":32,"BK":256,"num_warps":4,"SPLIT":4}' \
           '{"num_stages":5}|{"num_stages":5}' '{"BN":32,"num_warps":4}|{}' '{"BK":64,"num_warps":4}|{}' \
           '{"BN":64,"BK":64,"num_warps":2}|{}' '{"num_warps":8}|{}'; do
    timeout 40 python3 bench/ncu_moe.py $T --up "${V%%|*}" --down "${V##*|}" 2>&1 | grep "^T="
  done
done
