#!/usr/bin/env bash
# Session 12, run a (H200): session 11's untested portable-dequant GPU test and the GPU tile tests (with the new
# prefetch options); the one-token up GEMV asking L2 for the down weights (PREFETCH 1 at its start, 2 after its K
# loop) as whole calls and in the engine's batch-1 step; the MMA tiles asking L2 for their packed rows L2 steps ahead.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 240 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "portable or tiles_and_dequant" 2>&1 | grep -E "PASS|FAIL|Error|passed|failed|assert" | head -20
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1, \"PIPE\": $3, \"PREFETCH\": $4}"; }
D='{"GEMV": true, "BN": 8, "BK": 512, "num_warps": 1, "num_stages": 1}'
timeout 150 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 1 2 2 \
  --tile "[$(g 16 256 3 0), $D]" --tile "[$(g 16 256 3 1), $D]" --tile "[$(g 16 256 3 2), $D]" \
  --tile "[$(g 8 512 1 0), $D]" --tile "[$(g 8 512 1 1), $D]" 2>&1 | grep -v "Warn" \
  | sed 's/.GEMV.: True, //g; s/.num_warps.: 1, .num_stages.: 1, //g'
m() { echo "{\"BM\": 64, \"BN\": 128, \"BK\": 64, \"num_warps\": 4, \"num_stages\": 3, \"AHEAD\": true, \"L2\": $1}"; }
timeout 150 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 256 256 \
  --tile "$(m 4)" --tile "$(m 8)" --tile "$(m 16)" --tile "[$(m 8), $(m 0)]" 2>&1 | grep -v Warn
s() { echo "{\"BM\": 16, \"BN\": 64, \"BK\": $1, \"num_warps\": 2, \"num_stages\": 3, \"SWAP\": $2, \"L2\": $3}"; }
timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 8 64 \
  --tile "[$(s 128 false 4), $(s 64 true 8)]" --tile "[$(s 128 true 4), $(s 128 true 4)]" \
  --tile "[$(s 128 true 8), $(s 128 true 8)]" 2>&1 | grep -v Warn
for pf in 0 1 2; do
  rm -rf /tmp/pf$pf && mkdir -p /tmp/pf$pf && cp -r moechat bench /tmp/pf$pf/
  sed -i "s/return dict(down, BN=16, BK=256, PIPE=3) if pairs/return dict(down, BN=16, BK=256, PIPE=3, PREFETCH=$pf) if pairs/" \
    /tmp/pf$pf/moechat/kernels/moe_triton.py
  grep -c "PREFETCH=$pf) if pairs" /tmp/pf$pf/moechat/kernels/moe_triton.py
done
for pf in 0 1 2 0 1; do
  echo "== PREFETCH $pf"; (cd /tmp/pf$pf && PYTHONPATH=/tmp/pf$pf timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 \
    | grep -v Warn | grep -E "kernels per|gemv")
done
