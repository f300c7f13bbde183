#!/usr/bin/env bash
# Session 11, run a (H200): the decode GEMVs' K loop pipelined by Triton (tl.range num_stages: loads that feed no
# tl.dot become cp.async copies into shared memory, PIPE stages deep), the scales as 32-bit words (S32: byte loads
# are too small for the pipeliner), the activation planes loaded in a branch (PIF: kept out of the pipeline, which
# would copy them once per row of the tile into shared memory).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1$3}"; }
U=16; UK=256
t() { echo "[$(g $U $UK "$1"), $(g 8 512 "$1")]"; }
timeout 420 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 2 \
  --tile "$(t ', "PIPE": 2, "S32": true, "PIF": true')" \
  --tile "$(t ', "PIPE": 3, "S32": true, "PIF": true')" \
  --tile "$(t ', "PIPE": 4, "S32": true, "PIF": true')" \
  --tile "$(t ', "PIPE": 3, "S32": true')" \
  --tile "$(t ', "PIPE": 3, "PIF": true')" \
  --tile "$(t ', "S32": true')" \
  --tile "[$(g 8 512 ', "PIPE": 3, "S32": true, "PIF": true'), $(g 8 512 ', "PIPE": 3, "S32": true, "PIF": true')]" \
  --tile "[$(g 16 128 ', "PIPE": 5, "S32": true, "PIF": true'), $(g 8 256 ', "PIPE": 5, "S32": true, "PIF": true')]" \
  --tile "[$(g 32 128 ', "PIPE": 3, "S32": true, "PIF": true'), $(g 16 256 ', "PIPE": 3, "S32": true, "PIF": true')]" \
  2>&1 | grep -v Warn
