#!/usr/bin/env bash
# Session 4, fourth device run: decode MoE split/warp variants, engine bench with the adopted tiles (up split at
# T<=2, GEMV tiles per shape, few-row MMA band for the o-projection), batch-8 decode profile.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 bench/moe_decode_variants.py 1 8 2>&1 | grep -v Warn | sed "s/'num_//g"
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap"
timeout 90 python3 bench/profile_decode.py --batch 8 2>&1 | grep -v Warn | head -22
