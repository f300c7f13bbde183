#!/usr/bin/env bash
# Session 9, run d (H200): the final code (e4m3 conversions in the decode GEMVs, the planes as a per-word column
# order, the dot PTX on 4 words; the tensor-core GEMV of runs b and c removed): GPU tests of the MoE, end to end
# and graph replay; the engine benchmark with getp; gpt-oss-120b; the batch-1 step's kernels.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 270 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  tests/test_cuda_graphs.py -k "real_sizes or activation_range or tiles_and_dequant or e2e or graph" 2>&1 \
  | grep -E "PASS|FAIL|Error|passed|failed" | head -20
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn"
timeout 90 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only 2>&1 | grep -E "device|decode_"
timeout 45 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -8
