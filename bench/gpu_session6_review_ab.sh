#!/usr/bin/env bash
# Session 6, review A/B: the review's GEMV refactor (this tree) against the last commit (.ab), alternated, T=1.
export PYTHONUNBUFFERED=1
for i in 1 2; do
  for tree in "$PWD" "$PWD/.ab"; do
    echo "== $tree"
    (cd $tree && PYTHONPATH=$tree timeout 100 python3 bench/moe_decode_variants.py 1 --blocked 2>&1 | grep "^T=1" | head -2 | cut -c1-90)
  done
done
