#!/usr/bin/env bash
# Session 8, run b (H200): run a's word/plane GEMVs carried twice the registers (236 for up 8/512, 255 + spills
# for down 8/1024) and lost (down 13.1 -> 44.8 us); variants with fewer registers: short K steps, weights only
# loaded a step ahead (AHEAD) or none, the loop unrolled or not; the engine's batch-1 step with the new defaults.
# (AHEAD and UNROLL were GEMV config keys of the uncommitted tree it ran on, dropped after this run since neither
# moved the times: moe_decode_variants.py now lists other tiles.)
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 150 python3 bench/moe_decode_variants.py 1 2 --blocked 2>&1 | grep -v Warn \
  | sed -e "s/'GEMV': True, //g" -e "s/'num_stages': 1, //g" -e "s/'num_warps'/w/g" | cut -c1-230
timeout 120 python3 bench/profile_decode.py --steps 5 2>&1 | grep -v Warn | head -8
