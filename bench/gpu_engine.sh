#!/usr/bin/env bash
# Issues 2-3 on the device: generate, getp and the engine benchmark on synthetic:gpt-oss-20b (bf16, Triton kernels).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
M="--model synthetic:gpt-oss-20b --dtype bfloat16"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -m moechat generate "Why is the sky blue?" $M --max-tokens 32 --temperature 0 --raw | head -c 300; echo
python3 -m moechat getp .data/getp_4096.txt $OUT/getp64.txt $M --limit 64 -n 256 --quiet
python3 -m moechat getp .data/getp_4096.txt $OUT/getp1024.txt $M --limit 1024 -n 256 --quiet
python3 -m moechat bench $M --chat-turns 10 --json $OUT/bench.json
