"""moechat's forward pass against transformers' GptOssForCausalLM on the same checkpoint files (float32)."""

from __future__ import annotations

import pytest
import torch

from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer

transformers = pytest.importorskip("transformers")

PROMPTS = [
    "The quick brown fox jumps over the lazy dog because it wanted to see what lies beyond the hill and "
    "the river, far away from the farm where it was born.",  # > 3 sliding windows of 8
    "Grüße aus Köln: 日本語のテキストと emoji 🚀 mixed.",
    "Hi",
]
NEW_TOKENS = 6


def oracle_model(path: str):
    kw = {}
    if "mxfp4" in path or "original" in path:
        kw["quantization_config"] = transformers.Mxfp4Config(dequantize=True)
    m = transformers.GptOssForCausalLM.from_pretrained(path, dtype=torch.float32, **kw)
    return m.eval()


def oracle_greedy(model, ids: list[int], n: int) -> tuple[list[int], torch.Tensor]:
    """Greedy decoding by full recomputation: no cache on the oracle's side. Returns tokens and the
    prompt's last-position logits."""
    out, first_logits = [], None
    seq = list(ids)
    with torch.no_grad():
        for _ in range(n):
            logits = model(torch.tensor([seq])).logits[0, -1].float()
            if first_logits is None:
                first_logits = logits
            tok = int(logits.argmax())
            out.append(tok)
            seq.append(tok)
    return out, first_logits


@pytest.fixture(scope="module")
def prompts_ids() -> list[list[int]]:
    tok = Tokenizer()
    ids = [tok.encode(p) for p in PROMPTS]
    assert len(ids[0]) > 3 * 8
    return ids


@pytest.mark.parametrize("layout", ["hf-mxfp4", "hf-bf16", "original"])
def test_greedy_tokens_and_logits_match_transformers(layout, checkpoint_dirs, prompts_ids):
    # The original layout has no transformers loader: the oracle reads the HF copy of the same weights.
    oracle = oracle_model(checkpoint_dirs["hf-mxfp4" if layout == "original" else layout])
    engine = LLMEngine(EngineArgs(model=checkpoint_dirs[layout], device="cpu", dtype="float32"))
    params = SamplingParams(temperature=0.0, max_tokens=NEW_TOKENS, stop_token_ids=())
    outs = engine.generate(prompts_ids, params)
    for ids, out in zip(prompts_ids, outs):
        ref_tokens, ref_logits = oracle_greedy(oracle, ids, NEW_TOKENS)
        assert out.new_token_ids == ref_tokens
        # last-position logits of the prompt, computed by our prefill path
        ours = engine.prompt_logits(ids)
        rel = (ours - ref_logits).norm() / ref_logits.norm()
        assert rel < 1e-4, f"relative logits error {rel:.2e}"


def test_batched_prefill_equals_one_at_a_time(checkpoint_dirs, prompts_ids):
    params = SamplingParams(temperature=0.0, max_tokens=8, stop_token_ids=())
    batched = LLMEngine(EngineArgs(model=checkpoint_dirs["hf-mxfp4"], device="cpu", prefix_caching=False))
    together = [o.new_token_ids for o in batched.generate(prompts_ids, params)]
    alone = []
    for ids in prompts_ids:
        e = LLMEngine(EngineArgs(model=checkpoint_dirs["hf-mxfp4"], device="cpu", prefix_caching=False))
        alone.append(e.generate([ids], params)[0].new_token_ids)
    assert together == alone
