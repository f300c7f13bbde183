#!/usr/bin/env bash
# Decode-kernel work on the device: GPU kernel tests, kernel bench (+ decode sweep), end-to-end decode bench and
# a per-kernel profile of one batch-1 decode step. Logs under $OUT; a compact summary at the end.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
T0=$(date +%s)
timeout 150 python3 -m pytest -q -m gpu tests/test_kernels_*.py tests/test_cuda_graphs.py -p no:cacheprovider -x >$OUT/pytest.txt 2>&1
echo "pytest rc=$? $(( $(date +%s) - T0 ))s"
timeout 200 python3 -m moechat.kernels.bench ${SWEEP:+--sweep $SWEEP} >$OUT/kbench.txt 2>&1
echo "kbench rc=$? $(( $(date +%s) - T0 ))s"
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --dtype bfloat16 --decode-only >$OUT/e2e.txt 2>&1
echo "e2e rc=$? $(( $(date +%s) - T0 ))s"
[ -n "$PROFILE" ] && timeout 100 python3 bench/profile_decode.py >$OUT/profile.txt 2>&1
echo "=== pytest"; tail -5 $OUT/pytest.txt
echo "=== kernels"; grep -E "device:|^moe|^route|sweep moe|sweep route|add_rmsnorm +T=1 |rope_write_kv +T=1 |attn decode +B=1 |Error|error" $OUT/kbench.txt | head -60
echo "=== e2e"; tail -15 $OUT/e2e.txt
[ -f $OUT/profile.txt ] && { echo "=== profile"; head -30 $OUT/profile.txt; }
