#!/usr/bin/env bash
# Session 14, run a (H200): session 13's final code on the GPU: MoE and end-to-end GPU tests, the K loop unrolled by
# two (.data/s14u_*.py: this tree's moe_wgmma with session 13's unrolled loop) against it, the engine benchmark.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 170 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "wgmma or real_sizes or e2e" 2>&1 | grep -E "passed|failed|Error|assert " | head -20
timeout 90 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s14u_moe_triton.py --sizes 256 1024 256 \
  2>&1 | grep -v Warn
timeout 220 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --chat-turns 0 2>&1 | grep -v "Warn\|warn" | tee $OUT/bench.txt
