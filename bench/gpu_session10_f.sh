#!/usr/bin/env bash
# Session 10, run f (H200): run d found 64/128/64 (4 warps, 3 stages, byte scales) at 349.4 us against the
# default 64/128/128 (scale words) at 359.0 for 256 tokens (1024: 801.4 / 819.1). Around it, for both GEMMs or
# one of them, at 64, 256 and 1024 tokens.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
M='"BM": 64, "BN": 128, "BK": 64, "num_warps": 4'
D='"BM": 64, "BN": 128, "BK": 128, "num_warps": 4, "num_stages": 3, "S32": true'
timeout 400 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 1024 \
  --tile "{$M, \"num_stages\": 3}" --tile "{$M, \"num_stages\": 2}" \
  --tile '{"BM": 64, "BN": 64, "BK": 64, "num_warps": 4, "num_stages": 3}' \
  --tile "[{$M, \"num_stages\": 3}, {$D}]" --tile "[{$D}, {$M, \"num_stages\": 3}]" \
  --tile "{$M, \"num_stages\": 3, \"AHEAD\": true}" --tile "{$M, \"num_stages\": 3, \"EARLY\": true}" \
  2>&1 | grep -v Warn
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 64 \
  --tile '{"BM": 16, "BN": 64, "BK": 64, "num_warps": 2, "num_stages": 3, "SWAP": true}' \
  --tile '{"BM": 16, "BN": 64, "BK": 64, "num_warps": 2, "num_stages": 4, "SWAP": true}' 2>&1 | grep -v Warn
