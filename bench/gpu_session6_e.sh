#!/usr/bin/env bash
# Session 6, fifth device run: A/B of the decode graph's own argmax (this tree) against session 6's first commit
# (argmax and the token copy outside the graph; a copy of that package under .ab), alternated; graph tests.
export PYTHONUNBUFFERED=1
for i in 1 2; do
  for tree in "$PWD" "$PWD/.ab"; do
    echo "== $tree"
    PYTHONPATH=$tree timeout 110 python3 -m moechat bench --model synthetic:gpt-oss-20b --decode-only 2>&1 \
      | grep -E "decode_tok_s_1|gpu_ms_per|gap"
  done
done
PYTHONPATH=$PWD timeout 150 python3 -m pytest -q -m gpu tests/test_cuda_graphs.py -p no:cacheprovider 2>&1 | tail -1
