#!/usr/bin/env bash
# Session 6, final device run: the kernel table (MoE at 1 token now on the GEMVs) and gpt-oss-120b single-stream.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 300 python3 -m moechat.kernels.bench 2>&1 | grep -v "Warn\|warn"
timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only 2>&1 | grep -E "decode_tok_s_1|gpu_ms_per|gap"
