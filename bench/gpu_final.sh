#!/usr/bin/env bash
# Final device run: GPU tests, the engine benchmark (20b with getp, 120b decode), Triton vs reference agreement.
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 -m pytest -q -m gpu tests/test_kernels_*.py tests/test_cuda_graphs.py -p no:cacheprovider 2>&1 | tail -3
python3 -m moechat getp .data/getp_4096.txt $OUT/getp1024_256.txt --model synthetic:gpt-oss-20b --limit 1024 -n 256 --quiet
python3 -m moechat bench --model synthetic:gpt-oss-20b --chat-turns 10 --getp .data/getp_4096.txt --limit 1024 -n 512 --json $OUT/bench20b.json
python3 -m moechat bench --model synthetic:gpt-oss-120b --decode-only --json $OUT/bench120b.json
python3 bench/compare_paths.py 2>&1 | tail -6
