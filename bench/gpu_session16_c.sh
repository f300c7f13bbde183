#!/usr/bin/env bash
# Session 16, run c (H200): the one- and two-token down GEMV split over K (the next norm sums the splits), whole
# MoE call against HEAD's kernels (.data/s16base); the 128-row Gluon tile at 0.5-1 rows per expert (T=4-8).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 100 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k "real_sizes or tiles_and" \
  2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
UP1="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}"
UP2="$G, \"BN\": 8, \"BK\": 512}"
for rep in 1 2; do
  tiles=()
  for d in '"BN": 4, "BK": 512, "maxnreg": 80' '"BN": 4, "BK": 512, "SPLIT": 2' '"BN": 4, "BK": 512, "SPLIT": 3' \
           '"BN": 4, "BK": 512, "SPLIT": 5' '"BN": 8, "BK": 512, "SPLIT": 2, "maxnreg": 80' \
           '"BN": 8, "BK": 512, "SPLIT": 3, "maxnreg": 80' '"BN": 8, "BK": 256, "PIPE": 3, "SPLIT": 2' \
           '"BN": 16, "BK": 256, "PIPE": 3, "SPLIT": 2' '"BN": 16, "BK": 256, "PIPE": 3, "SPLIT": 3'; do
    tiles+=(--tile "[$UP1, $G, $d}]")
  done
  timeout 150 python3 bench/moe_module_ab.py .data/s16base_moe_triton.py moechat/kernels/moe_triton.py --sizes 1 \
    "${tiles[@]}" 2>&1 | grep -v "Warn\|warn" | grep -v "s16base.*SPLIT" | tee -a $OUT/ab1.txt
  tiles=()
  for d in '"BN": 8, "BK": 512' '"BN": 8, "BK": 512, "SPLIT": 2' '"BN": 4, "BK": 512, "SPLIT": 2' \
           '"BN": 8, "BK": 512, "SPLIT": 3'; do
    tiles+=(--tile "[$UP2, $G, $d}]")
  done
  timeout 100 python3 bench/moe_module_ab.py .data/s16base_moe_triton.py moechat/kernels/moe_triton.py --sizes 2 \
    "${tiles[@]}" 2>&1 | grep -v "Warn\|warn" | grep -v "s16base.*SPLIT" | tee -a $OUT/ab2.txt
done
W='"BM": 16, "BN": 64, "BK": 128, "num_warps": 2, "num_stages": 3'
B='{"BW": 128, "BT": 16, "STAGES": 4, "HALF": true, "MASK": true, "maxnreg": 168}'
for rep in 1 2; do
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 3 4 6 8 \
  --tile "[{$W, \"WGMMA\": $B}, {$W, \"SWAP\": true, \"WGMMA\": $B}]" 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/t8.txt
done
