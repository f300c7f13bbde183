"""Decode steps replayed from CUDA graphs give the same tokens as eager execution (GPU only)."""

from __future__ import annotations

import pytest
import torch

from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_graph_replay_equals_eager(dtype):
    tok = Tokenizer()
    prompts = [tok.encode(f"Request {i}: " + "tell me about the sea " * (i + 1)) for i in range(11)]  # pads 11 -> 16
    # greedy and seeded sampled rows in one batch (run ahead: each step's tokens fed back on the device)
    params = [SamplingParams(temperature=0.0, max_tokens=24, stop_token_ids=()) if i % 3 else
              SamplingParams(temperature=0.9, top_p=0.95, seed=i, max_tokens=24, stop_token_ids=()) for i in range(11)]
    outs = {}
    for graphs in (False, True):
        e = LLMEngine(EngineArgs(model="synthetic:tiny", device="cuda", dtype=dtype, kv_cache_gb=0.5,
                                 max_num_seqs=32, cuda_graphs=graphs))
        assert (e.runner.graphs is not None) == graphs
        outs[graphs] = [o.new_token_ids for o in e.generate(prompts, params)]
    assert outs[True] == outs[False]
