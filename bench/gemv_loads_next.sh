#!/usr/bin/env bash
# Prepared in session 17 for the next device run (NOTES session 17 section 9): (1) the read-only pattern with its loads
# copied ahead through shared memory (PIPE 3) beside direct loads (PIPE 1): does the GEMVs' copy path itself cost
# the ~4 us between the weights-only GEMVs and the pattern? (2) the down GEMV's broadcast plane loads removed too.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 90 python3 bench/read_pattern.py --tiles 16x256 8x512 4x512 --pipe 1 3 2>&1 | grep -v "Warn\|warn" \
  | tee $OUT/read.txt
mods=moechat/kernels/moe_triton.py
for v in "" "--no-scales --no-planes" "--no-pair-planes" "--no-scales --no-planes --no-pair-planes"; do
  n=.data/$(echo "nodot$v" | tr -d ' -')_moe_triton.py; python3 bench/make_nodot_variant.py $n $v; mods="$mods $n"
done
for rep in 1 2; do
  timeout 90 python3 bench/moe_module_ab.py $mods --sizes 1 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ablation.txt
done
