#!/usr/bin/env bash
# Session 7, run d (H200): 8-row GEMV programs as the 1-2 token default: MoE GPU tests, the new default against
# run c's best, then the engine (bench with the 10-turn chat and getp) and gpt-oss-120b single-stream.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 -m pytest -q -m gpu tests/test_kernels_moe.py -p no:cacheprovider \
  -k "real_sizes or tiles_and_dequant or activation_range" > $OUT/pytest.txt 2>&1; tail -1 $OUT/pytest.txt
grep -E "^(FAILED|E )" $OUT/pytest.txt | head -10
timeout 100 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1, //g" | cut -c1-200
timeout 300 python3 -m moechat bench --model synthetic:gpt-oss-20b --getp .data/getp_4096.txt --limit 1024 -n 512 \
  --json $OUT/bench20b.json 2>&1 | grep -v "^ \|Warn" | tee $OUT/bench20b.txt
timeout 150 python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only --json $OUT/bench120b.json 2>&1 \
  | grep -E "decode_tok_s_1|gpu_ms_per|gap|roofline|bandwidth"
