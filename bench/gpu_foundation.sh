#!/usr/bin/env bash
# Issue 2 on the device: generate and getp on synthetic:gpt-oss-20b in bfloat16, torch reference path.
set -x
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
MOECHAT_KERNELS=${MOECHAT_KERNELS:-torch} /usr/bin/time -v python3 -m moechat generate "Why is the sky blue?" --model synthetic:gpt-oss-20b --dtype bfloat16 --max-tokens 64 --temperature 0 --raw 2>&1 | grep -E "Maximum resident|Elapsed|^[^\t]" | tail -5
MOECHAT_KERNELS=${MOECHAT_KERNELS:-torch} python3 -m moechat getp .data/getp_4096.txt $OUT/getp64.txt --model synthetic:gpt-oss-20b --dtype bfloat16 --limit 64 -n 256 --quiet --kv-cache-gb 8 2>&1 | tail -3
