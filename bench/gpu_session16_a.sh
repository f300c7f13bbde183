#!/usr/bin/env bash
# Session 16, run a (H200): both decode GEMVs in one launch with a grid barrier (_moe_gemv_kernel). GPU tests of
# it; whole MoE call at 1-2 tokens against the last commit's kernels (.data/s16base = HEAD's moe_triton.py) and
# without the cooperative launch; the engine's batch-1 step per kernel, this tree against HEAD (.data/prev16);
# the 128-row Gluon tile at one row per expert (session 15's open question).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_kernels_moe.py \
  -k "fused or real_sizes or activation_range" 2>&1 | tee $OUT/tests.txt | grep -E "passed|failed|Error|assert " | head
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
UP="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3"
for rep in 1 2; do
timeout 120 python3 bench/moe_module_ab.py .data/s16base_moe_triton.py moechat/kernels/moe_triton.py \
  .data/s16nocoop_moe_triton.py --sizes 1 2 \
  --tile "[$UP, \"FUSED\": true}, $G, \"BN\": 8, \"BK\": 512}]" \
  --tile "[$UP, \"FUSED\": true}, $G, \"BN\": 4, \"BK\": 1024}]" \
  --tile "[$UP}, $G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80}]" 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ab.txt
done
for tree in . .data/prev16; do
  echo "== profile_decode $tree"
  (cd $tree && PYTHONPATH=$PWD timeout 90 python3 bench/profile_decode.py --steps 10 2>&1 | grep -v "Warn\|warn" | head -14)
done 2>&1 | tee $OUT/profile.txt
W='"BM": 16, "BN": 64, "BK": 128, "num_warps": 2, "num_stages": 3'
for rep in 1 2; do
timeout 100 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 8 12 \
  --tile "[{$W, \"WGMMA\": {\"BW\": 128, \"BT\": 16, \"STAGES\": 4, \"HALF\": true, \"MASK\": true, \"maxnreg\": 168}}, {$W, \"SWAP\": true, \"WGMMA\": {\"BW\": 128, \"BT\": 16, \"STAGES\": 4, \"HALF\": true, \"MASK\": true, \"maxnreg\": 168}}]" \
  2>&1 | grep -v "Warn\|warn" | tee -a $OUT/t8.txt
done
