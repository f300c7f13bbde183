#!/usr/bin/env bash
# Session 12, run f (H200): the down GEMV with 4-row programs (2,880) under a register cap, one wave (run e: 25.4 /
# 25.6 us whole call against 25.8 / 25.8): more caps and K steps, then the engine's batch-1 step, both trees twice.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": $3, \"num_stages\": 1, \"PIPE\": $4${5:+, \"maxnreg\": $5}}"; }
U=$(g 16 256 1 3)
timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 1 1 \
  --tile "[$U, $(g 4 512 1 1 80)]" --tile "[$U, $(g 4 512 1 1 64)]" --tile "[$U, $(g 4 1024 1 1 80)]" \
  --tile "[$U, $(g 4 256 1 3 80)]" --tile "[$U, $(g 8 512 1 1 80)]" 2>&1 | grep -v Warn \
  | sed 's/.GEMV.: True, //g; s/.num_stages.: 1, //g'
rm -rf /tmp/d4 && mkdir -p /tmp/d4 && cp -r moechat bench /tmp/d4/
sed -i 's/return dict(down, BN=16, BK=256, PIPE=3) if pairs <= 4 else down, down/return (dict(down, BN=16, BK=256, PIPE=3), dict(down, BN=4, maxnreg=80)) if pairs <= 4 else (down, down)/' \
  /tmp/d4/moechat/kernels/moe_triton.py
grep -c "BN=4, maxnreg=80" /tmp/d4/moechat/kernels/moe_triton.py
for tree in $PWD /tmp/d4 $PWD /tmp/d4; do
  echo "== $tree"; (cd $tree && PYTHONPATH=$tree timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v Warn | grep -E "kernels per|gemv")
done
