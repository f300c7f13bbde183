#!/usr/bin/env bash
# Session 11, run b (H200): run a's pipelined GEMV loops did not pay (loads in flight are not the bound); what the
# access pattern alone can read (bench/read_pattern.py), and the GEMVs on block_rows' layout with 16-row programs
# (each K step of 256 columns then reads one contiguous 2 KB span; row-major: 16 pieces of 128 bytes).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
timeout 120 python3 bench/read_pattern.py --tiles 16x256 8x512 16x512 32x256 16x128 32x128 64x64 2>&1 | grep -v Warn
g() { echo "{\"GEMV\": true, \"BN\": $1, \"BK\": $2, \"num_warps\": 1, \"num_stages\": 1$3}"; }
P=', "PIPE": 3, "S32": true, "PIF": true'
for layout in row-major block_rows; do
  echo "== $layout"
  timeout 240 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 2 --layout $layout \
    --tile "[$(g 16 256), $(g 16 256)]" --tile "[$(g 16 256), $(g 8 512)]" --tile "[$(g 16 256 "$P"), $(g 16 256 "$P")]" \
    --tile "[$(g 16 512), $(g 16 512)]" --tile "[$(g 32 256), $(g 16 256)]" 2>&1 | grep -v Warn | sed 's/moechat.kernels.moe_triton.py //; s/.GEMV.: True, //g'
done
