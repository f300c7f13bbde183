#!/usr/bin/env bash
# Before the call: git show 4593e2f:moechat/kernels/moe_triton.py > .data/head_moe_triton.py (carry .data).
# Session 7, run a (first on an H200): the decode GEMVs with fp16 products (DEQ 3): GPU tests, tile variants at
# 1-8 tokens against session 6's bf16 dequantization and the MMA tiles, then the engine (single stream, TTFT,
# batch 8/256) with this tree and with the last commit's MoE kernels (.data/head_moe_triton.py, carried).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader
timeout 300 python3 -m pytest -q -m gpu tests/test_kernels_moe.py tests/test_kernels_e2e.py -p no:cacheprovider \
  -k "real_sizes or tiles_and_dequant or activation_range or e2e" > $OUT/pytest.txt 2>&1; tail -1 $OUT/pytest.txt
grep -E "^(FAILED|E )" $OUT/pytest.txt | head -20
timeout 240 python3 bench/moe_decode_variants.py 1 2 4 8 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'num_stages': 1, //g" -e "s/'GEMV': True, //g" | cut -c1-230 | tee $OUT/variants.txt
mkdir -p /tmp/old && cp -r moechat /tmp/old/ && cp .data/head_moe_triton.py /tmp/old/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/old; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 200 python3 -m moechat bench --model synthetic:gpt-oss-20b \
    --chat-turns 0 --json $OUT/bench_$(basename $tree).json 2>&1 | grep -v "^ \|Warn" | grep -E "tok_s|gpu|ttft|gap|batch|bandwidth")
done
