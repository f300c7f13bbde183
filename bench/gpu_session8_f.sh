#!/usr/bin/env bash
# Session 8, run f (H200): run e's kernel table put the row-major experts ahead of block_rows' layout at one token
# (34.0 against 35.5 us) and level or ahead elsewhere (T=256 356 / 363, T=8192 4370 / 4404): GEMV tiles at one
# token in both layouts (4-row programs too), then the engine with each layout (batch-1 profile, moechat bench).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 120 python3 bench/moe_decode_variants.py 1 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1//g" | cut -c1-200
# (run as bench/row_major_engine.py, which patched block_rows away: now bench/with_layout.py rows)
for run in "bench/with_layout.py blocked" "bench/with_layout.py rows"; do
  echo "== $run"
  timeout 100 python3 $run bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -4
  timeout 100 python3 $run -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 0 2>&1 \
    | grep -E "decode_tok|decode_gpu|ttft_8k_cold|tok_s_batch|decode_gpu_ms_batch"
done
