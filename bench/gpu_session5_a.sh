#!/usr/bin/env bash
# Session 5, first device run: programmatic dependent launch (moechat/kernels/pdl.py) on and off; GPU tests with it on.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 -c "import triton; print('triton', triton.__version__)"
timeout 200 python3 -m pytest -q -m gpu tests/test_kernels_e2e.py tests/test_cuda_graphs.py tests/test_kernels_moe.py -p no:cacheprovider -k "real_sizes or e2e or graph" 2>&1 | tail -3
for pdl in 1 0 1; do
  echo "== MOECHAT_PDL=$pdl"
  MOECHAT_PDL=$pdl timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 --json $OUT/bench20b_pdl$pdl.json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap"
done
