#!/usr/bin/env bash
# Before the call: git show f971e1e:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 9, run f (H200): run e timed the cached 1k TTFT at 23.6 ms against 13.8 with f971e1e's kernels: the
# same prompt's TTFT cold then cached, 5 prompts, in each tree.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
mkdir -p /tmp/old && cp -r moechat bench /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 110 python3 bench/ttft_repeat.py 2>&1 | grep rep)
done
