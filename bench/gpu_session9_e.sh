#!/usr/bin/env bash
# Before the call: git show f971e1e:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 9, run e (H200): run d's TTFT (1k cached 31.6 ms against session 8's 13.4) and getp (15.8k against
# 17.2k) moved though the change is in the 1-2 token GEMVs only: the engine benchmark, this tree then f971e1e's
# kernels, in one run.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
mkdir -p /tmp/old && cp -r moechat bench /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 120 python3 -m moechat bench --model synthetic:gpt-oss-20b \
    --chat-turns 0 2>&1 | grep -E "decode_tok_s_1|gpu_ms_per|ttft|tok_s_batch")
done
