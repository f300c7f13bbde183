"""Triton kernels vs the torch reference path on synthetic:gpt-oss-20b: greedy-token agreement and
last-position logits error, in float32 and bfloat16. Run on the device: python3 bench/compare_paths.py"""

from __future__ import annotations

import gc
import os
import sys

import torch

from moechat.engine.getp import read_prompts
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer

MODEL = sys.argv[1] if len(sys.argv) > 1 else "synthetic:gpt-oss-20b"
tok = Tokenizer()
prompts = [tok.encode(p) for p in read_prompts(".data/getp_4096.txt")[:16]]
params = SamplingParams(temperature=0.0, max_tokens=32, stop_token_ids=())


def run(kernels: str, dtype: str):
    os.environ["MOECHAT_KERNELS"] = kernels
    e = LLMEngine(EngineArgs(model=MODEL, dtype=dtype, kv_cache_gb=4, max_num_seqs=16, cuda_graphs=False))
    logits = e.prompt_logits(prompts[0]).clone()
    outs = [o.new_token_ids for o in e.generate(prompts, params)]
    del e
    gc.collect()
    torch.cuda.empty_cache()
    return outs, logits


def agree(a, b) -> str:
    same = sum(x == y for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    prefix = sum(next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), len(ra)) for ra, rb in zip(a, b))
    return f"{same}/{sum(map(len, a))} positions equal, {prefix} tokens before first divergence"


res = {(k, d): run(k, d) for d in ("float32", "bfloat16") for k in ("torch", "triton")}
ref = res[("torch", "float32")][1]
for key, (outs, logits) in res.items():
    rel = ((logits - ref).norm() / ref.norm()).item()
    print(f"{key[0]:7s} {key[1]:9s} logits rel err vs torch fp32 {rel:.2e}  top1 {logits.argmax().item()} "
          f"(ref {ref.argmax().item()})  tokens vs torch fp32: {agree(res[('torch', 'float32')][0], outs)}")
print("triton bf16 vs torch bf16:", agree(res[("torch", "bfloat16")][0], res[("triton", "bfloat16")][0]))
