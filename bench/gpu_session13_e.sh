#!/usr/bin/env bash
# Session 13, runs e and f (H200): the Gluon MoE as the default for 17-256 rows per expert: GPU MoE and end-to-end
# tests, the K loop unrolled by 2 against 79ae353's (.data/s13e_*.py), the engine benchmark (run f: no kernel
# table, device time). Run e stopped at moe_wgmma.fits (fixed for run f) and also ran the benchmark on session 12's tree
# (`git archive 3c5fdd5 moechat` into .data/s12; `cd .data/s12 && PYTHONPATH=$PWD python3 -m moechat bench $B`).
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
export PYTHONPATH=$PWD
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py tests/test_kernels_e2e.py \
  -k "wgmma or real_sizes or e2e" 2>&1 \
  | grep -E "passed|failed|Error|assert " | head -20
timeout 80 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s13e_moe_triton.py --sizes 256 1024 \
  2>&1 | grep -v Warn
B="--model synthetic:gpt-oss-20b --getp $PWD/.data/getp_4096.txt --limit 1024 -n 512 --chat-turns 0"
timeout 150 python3 -m moechat bench $B 2>&1 | grep -v "Warn\|warn"
