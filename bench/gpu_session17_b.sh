#!/usr/bin/env bash
# Session 17, run b (H200): (1) which of the one-token GEMV loop's loads cost the time: the tree against its XOR
# copies (make_nodot_variant.py) with and without the scale and plane loads, and the read-only pattern
# (read_pattern.py); (2) the GEMVs' weights by TMA (one bulk copy a K step, TMA in the tile config) at several
# pipeline depths, whole call at 1-2 tokens (rel. diff against the tree's default: the same math).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
mods=moechat/kernels/moe_triton.py
for v in "" "--no-scales" "--no-planes" "--no-scales --no-planes"; do
  n=.data/$(echo "nodot$v" | tr -d ' -')_moe_triton.py; python3 bench/make_nodot_variant.py $n $v; mods="$mods $n"
done
for rep in 1 2; do
  timeout 90 python3 bench/moe_module_ab.py $mods --sizes 1 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/ablation.txt
done
timeout 60 python3 bench/read_pattern.py --tiles 16x256 8x512 4x512 2>&1 | grep -v "Warn\|warn" | tee $OUT/read.txt
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
D="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80"
U="$G, \"BN\": 16, \"BK\": 256"
W="$G, \"BN\": 8, \"BK\": 512"
T='"TMA": true'
for rep in 1 2; do
  timeout 200 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$U, \"PIPE\": 3, $T}, $D}]" --tile "[$U, \"PIPE\": 4, $T}, $D}]" --tile "[$U, \"PIPE\": 6, $T}, $D}]" \
    --tile "[$G, \"BN\": 16, \"BK\": 512, \"PIPE\": 3, $T}, $D}]" \
    --tile "[$U, \"PIPE\": 3}, $D, $T}]" --tile "[$U, \"PIPE\": 3}, $D, \"PIPE\": 2, $T}]" \
    --tile "[$U, \"PIPE\": 3}, $D, \"PIPE\": 3, $T}]" --tile "[$U, \"PIPE\": 4, $T}, $D, \"PIPE\": 3, $T}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/tma.txt
  timeout 120 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 2 \
    --tile "[$W, $T}, $W, $T}]" --tile "[$W, \"PIPE\": 2, $T}, $W, \"PIPE\": 2, $T}]" \
    --tile "[$W, \"PIPE\": 3, $T}, $W, \"PIPE\": 3, $T}]" --tile "[$W, \"PIPE\": 3, $T}, $W}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/tma.txt
done
