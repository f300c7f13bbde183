#!/usr/bin/env bash
# Session 3 device run 6: MoE slots summed in the next norm, attention scale in the exponent's FMA, split-K decode
# tiles: kernel table, engine bench, decode profile, GPU tests.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 130 python3 -m moechat.kernels.bench 2>&1 | grep -E "device|moe|attn|add_rms" | head -40
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tail -20
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_attention.py tests/test_kernels_e2e.py tests/test_cuda_graphs.py -p no:cacheprovider -k "real_sizes or e2e or graph or attention" 2>&1 | grep -E "passed|failed|Error|assert" | head -20
timeout 80 python3 bench/profile_decode.py 2>&1 | tail -22
