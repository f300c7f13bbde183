"""End to end on the GPU: the engine with the Triton kernels against the same engine on the torch references."""

import pytest
import torch

from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer

TEXTS = ["Once upon a time in a land far away there lived a king who had three daughters and a dog",
         "Bonjour tout le monde", "def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)", "A",
         "Snow falls quietly on the mountain village at night " * 20]  # long enough to cross windows and blocks


def tokens(kernels: str, dtype: str, monkeypatch) -> list[list[int]]:
    monkeypatch.setenv("MOECHAT_KERNELS", kernels)
    tok = Tokenizer()
    engine = LLMEngine(EngineArgs(model="synthetic:tiny", device="cuda", dtype=dtype, kv_cache_gb=0.5))
    params = SamplingParams(temperature=0.0, max_tokens=24, stop_token_ids=())
    out = [o.new_token_ids for o in engine.generate([tok.encode(t) for t in TEXTS], params)]
    del engine
    torch.cuda.empty_cache()
    return out


@pytest.mark.gpu
@pytest.mark.parametrize("dtype,min_agree", [("float32", 1.0), ("bfloat16", 0.99)])
def test_greedy_tokens_match_reference(dtype, min_agree, monkeypatch):
    ref = tokens("torch", dtype, monkeypatch)
    fast = tokens("triton", dtype, monkeypatch)
    same = sum(a == b for r, f in zip(ref, fast) for a, b in zip(r, f))
    total = sum(len(r) for r in ref)
    print(f"{dtype}: {same}/{total} greedy tokens equal")
    assert same / total >= min_agree
