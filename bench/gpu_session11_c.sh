#!/usr/bin/env bash
# Session 11, run c (H200): is the e4m3 -> f16x2 conversion (F2FP, a slow pipe on Hopper) what holds the decode GEMVs
# back? .data/nocvt_moe_triton.py drops the conversions (wrong values: the ceiling of removing them);
# .data/f16w_moe_triton.py builds the same f16 values without them: each nibble into an f16 high byte (e2m1 * 2^-14),
# spread into f16x2 lanes by prmt, times 2^8 (HMUL2, on the idle FMA pipe); its output should equal this tree's.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1}"; }
timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/f16w_moe_triton.py \
  .data/nocvt_moe_triton.py --sizes 1 1 2 --tile "[$(g 16 256), $(g 16 256)]" --tile "[$(g 8 512), $(g 8 512)]" \
  2>&1 | grep -v Warn | sed 's/.GEMV.: True, //g; s/.num_warps.: 1, .num_stages.: 1//g' 
mkdir -p /tmp/alt && cp -r moechat bench tests pyproject.toml /tmp/alt/ && cp .data/f16w_moe_triton.py /tmp/alt/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/alt $PWD /tmp/alt; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v Warn | head -5)
done
echo "== GPU tests of the prmt tree"
(cd /tmp/alt && PYTHONPATH=/tmp/alt timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "real_sizes or activation_range" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed" | head -20)
# which pipes the up GEMV keeps busy, in both trees (Nsight Compute's compute workload section: pipe utilization)
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for tree in $PWD /tmp/alt; do
  echo "== ncu $tree"
  (cd $tree && PYTHONPATH=$tree timeout 100 $NCU --clock-control none --kernel-name _moe_up_gemv_kernel --launch-skip 3 \
    --launch-count 1 --section ComputeWorkloadAnalysis --section SpeedOfLight \
    --metrics regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active,regex:sm__pipe_.*_cycles_active\.avg\.pct_of_peak_sustained_active \
    python3 bench/ncu_moe.py 1 --ncu 2>&1 | grep -v "Warn\|warn\|^==PROF==" \
    | grep -E "^\s+[a-zA-Z][A-Za-z_ /%\-\(\)\.]+ {2,}" | grep -v " 0$\| 0\.0[0-9]$\| 0$" | cut -c1-120)
done
