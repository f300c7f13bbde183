#!/usr/bin/env bash
# Session 8, run e (H200): the kernel table (issue 4's MoE rows) and gpt-oss-120b single stream on the committed
# word/plane GEMVs.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only 2>&1 | grep -E "device|decode_"
timeout 330 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn"
