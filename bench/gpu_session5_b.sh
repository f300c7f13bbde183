#!/usr/bin/env bash
# Session 5, second device run: PDL modes (0 off, 1 trigger at each kernel's start, 2 trigger when programs exit).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
for pdl in 0 1 2 0 2; do
  echo "== MOECHAT_PDL=$pdl"
  MOECHAT_PDL=$pdl timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b_pdl$pdl.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s_1|gpu|ttft_1k_cold|batch_8"
done
