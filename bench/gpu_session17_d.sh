#!/usr/bin/env bash
# Session 17, run d (H200): the one-token down GEMV reads its 17.6 MB in 10.0 us where the read-only pattern of its
# tile (4x512, bench/read_pattern.py) streams twice the bytes in 9.2: a reading that its 2,880 programs start
# together and stay in step, each step's loads waiting while every program computes. (1) Down tiles with their loads
# copied ahead (PIPE 2-3) at 4 and 8 rows; (2) copies whose programs start their full K steps at different phases
# (.data/s17rotd: the unpipelined GEMVs, i.e. the down GEMV; .data/s17rot: both), whole call at 1-2 tokens.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
G='{"GEMV": true, "num_warps": 1, "num_stages": 1'
U="$G, \"BN\": 16, \"BK\": 256, \"PIPE\": 3}"
D4="$G, \"BN\": 4, \"BK\": 512, \"maxnreg\": 80"
for rep in 1 2; do
  timeout 90 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/s17rotd_moe_triton.py \
    .data/s17rot_moe_triton.py --sizes 1 2 2>&1 | grep -v "Warn\|warn" | tee -a $OUT/rot.txt
  timeout 150 python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py --sizes 1 \
    --tile "[$U, $D4, \"PIPE\": 2}]" --tile "[$U, $D4, \"PIPE\": 3}]" --tile "[$U, $G, \"BN\": 4, \"BK\": 256, \"maxnreg\": 80, \"PIPE\": 3}]" \
    --tile "[$U, $G, \"BN\": 8, \"BK\": 512, \"PIPE\": 2}]" --tile "[$U, $G, \"BN\": 8, \"BK\": 256, \"PIPE\": 3}]" \
    --tile "[$U, $G, \"BN\": 8, \"BK\": 512}]" \
    2>&1 | grep -v "Warn\|warn" | sed 's/{.GEMV.: True, .num_warps.: 1, .num_stages.: 1, //g' | tee -a $OUT/down.txt
done
