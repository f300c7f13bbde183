#!/usr/bin/env bash
# Session 5 final device run, part B: engine benchmark (20b with chat turns and getp, 120b decode), decode timeline.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 230 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -34
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only --json $OUT/bench120b.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|load|roof"
timeout 150 python3 bench/profile_host.py --batch 1 8 --tokens 48 --timeline 2>&1 | grep -v -i warn
