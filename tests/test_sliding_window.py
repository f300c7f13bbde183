"""Sliding-window layers keep only the KV blocks their window can still see (synthetic:tiny: window 8,
blocks of 16): outputs are identical with and without trimming, memory stays bounded, prefix reuse holds."""

from __future__ import annotations

import pytest

from moechat.engine.harmony import Conversation, Message, render_prompt
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer

GREEDY = SamplingParams(temperature=0.0, max_tokens=40, stop_token_ids=())


def engine(**kw) -> LLMEngine:
    return LLMEngine(EngineArgs(model="synthetic:tiny", device="cpu", dtype="float32", **kw))


@pytest.fixture(scope="module")
def prompts() -> list[list[int]]:
    tok = Tokenizer()
    texts = ["A long story about rivers, mountains, forests and the people who lived among them for ages " * 2,
             "Short one", "Numbers: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25"]
    return [tok.encode(t) for t in texts]


@pytest.fixture(scope="module")
def untrimmed(prompts) -> list[list[int]]:
    e = engine(sliding_window_trim=False)
    assert e.blocks.window == 0 and e.kv.num_swa_blocks == 0
    return [o.new_token_ids for o in e.generate(prompts, GREEDY)]


def test_trimmed_outputs_equal_untrimmed_with_and_without_cache_hits(prompts, untrimmed):
    e = engine(max_num_batched_tokens=24)  # chunked prefill crosses windows mid-prompt
    assert e.blocks.window == 8 and e.kv.swa_k.shape[0] == 2 and e.kv.k.shape[0] == 2
    assert [o.new_token_ids for o in e.generate(prompts, GREEDY)] == untrimmed
    again = e.generate(prompts, GREEDY)
    assert [o.new_token_ids for o in again] == untrimmed
    assert again[0].cached_tokens > 0


def test_sliding_memory_stops_growing_past_the_window(prompts):
    e = engine(prefix_caching=False)
    rid = e.add_request(prompts[1], SamplingParams(temperature=0.0, max_tokens=150, stop_token_ids=()))
    seq = e.seqs[rid]
    live_swa = []
    while e.has_unfinished():
        e.step()
        if not seq.finished:
            live_swa.append(sum(b is not None for b in seq.swa_blocks))
            full = len(seq.blocks)
    assert full >= 9  # the full-attention layers kept every block
    # window 8 inside blocks of 16: at most two sliding blocks are ever live
    assert max(live_swa) <= 2
    assert e.blocks.num_swa_free == e.blocks.num_swa_blocks  # all returned


def test_tiny_sliding_pool_evicts_and_falls_back_to_shorter_prefixes(prompts, untrimmed):
    e = engine(max_num_seqs=1, max_num_batched_tokens=32)
    assert e.blocks.num_swa_blocks <= 8
    for _ in range(3):
        assert [o.new_token_ids for o in e.generate(prompts, GREEDY)] == untrimmed


def test_chat_turns_reuse_prefix_with_trimming():
    tok = Tokenizer()
    results = {}
    for trim in (False, True):
        e = engine(sliding_window_trim=trim)
        conv = Conversation([], date="2026-01-01")
        outs, cached = [], []
        for turn in range(4):
            conv.messages.append(Message("user", f"Question {turn}: what happened next in the story of the river?"))
            o = e.generate([render_prompt(tok, conv)], SamplingParams(temperature=0.0, max_tokens=20))[0]
            outs.append(o.new_token_ids)
            cached.append(o.cached_tokens)
            conv.messages.append(Message("assistant", f"Answer {turn}: it flowed on to the sea."))
        results[trim] = (outs, cached)
    assert results[True][0] == results[False][0]
    assert results[True][1][1:] == results[False][1][1:] and min(results[True][1][1:]) > 0


def test_same_prompt_again_hits_the_cache_when_its_length_is_a_block_multiple():
    e = engine()
    prompt = list(range(1000, 1064))  # 64 tokens: 4 full blocks
    first = e.generate([prompt], GREEDY)[0]
    again = e.generate([prompt], GREEDY)[0]
    assert again.cached_tokens == 48 and again.new_token_ids == first.new_token_ids
