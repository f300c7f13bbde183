#!/usr/bin/env bash
# Session 4 final device run: kernel table, engine benchmark (20b with chat turns and getp, 120b decode).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 200 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn"
timeout 220 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -32
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only --json $OUT/bench120b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|load|roof"
