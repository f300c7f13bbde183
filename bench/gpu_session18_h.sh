#!/usr/bin/env bash
# Session 18, run h (H200): the split route's h columns made in registers for its dot (this tree) against storing
# and reading them back (.data/prev18c): the batch-1 decode step, twice each; the route's GPU tests.
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
for rep in 1 2; do
  for tree in $PWD $PWD/.data/prev18c; do
    echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 60 python3 bench/profile_decode.py --steps 10 2>&1 \
      | grep -v "Warn\|warn" | grep -E "kernels per|_route|graph replay")
  done
done 2>&1 | tee $OUT/profile.txt
PYTHONPATH=$PWD timeout 60 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py -k "route" 2>&1 \
  | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
