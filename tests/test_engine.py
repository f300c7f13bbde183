"""Continuous batching, prefix reuse, eviction, preemption and sampling on synthetic:tiny (CPU, float32)."""

from __future__ import annotations

import pytest

from moechat.engine.harmony import Conversation, Message, render_prompt
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer

GREEDY = SamplingParams(temperature=0.0, max_tokens=12, stop_token_ids=())
TEXTS = ["Once upon a time in a land far away there lived a king who had three daughters and a dog",
         "Bonjour tout le monde", "def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)",
         "Snow falls quietly on the mountain village at night", "A", "1 2 3 4 5 6 7 8 9 10 11 12 13"]


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def prompts(tok) -> list[list[int]]:
    return [tok.encode(t) for t in TEXTS]


def engine(**kw) -> LLMEngine:
    return LLMEngine(EngineArgs(model="synthetic:tiny", device="cpu", dtype="float32", **kw))


@pytest.fixture(scope="module")
def alone(prompts) -> list[list[int]]:
    """Each prompt run by itself in a fresh engine: the reference for everything batched."""
    return [engine(prefix_caching=False).generate([p], GREEDY)[0].new_token_ids for p in prompts]


def test_batched_equals_alone_equals_prefix_hits(prompts, alone):
    e = engine(max_num_batched_tokens=40)  # forces chunked prefill of the longer prompts
    assert [o.new_token_ids for o in e.generate(prompts, GREEDY)] == alone
    again = e.generate(prompts, GREEDY)
    assert [o.new_token_ids for o in again] == alone
    assert sum(o.cached_tokens for o in again) >= 16  # the long prompt's full blocks came from the cache


def test_requests_joining_mid_flight_get_the_same_tokens(prompts, alone):
    e = engine()
    first = e.add_request(prompts[0], GREEDY)
    got = {first: []}
    for _ in range(3):
        for o in e.step():
            got[o.request_id] += o.new_token_ids
    later = {e.add_request(p, GREEDY): i for i, p in enumerate(prompts[1:], 1)}
    got.update({r: [] for r in later})
    while e.has_unfinished():
        for o in e.step():
            got[o.request_id] += o.new_token_ids
    assert got[first] == alone[0]
    assert all(got[r] == alone[i] for r, i in later.items())


def test_second_chat_turn_prefills_only_new_tokens(tok):
    e = engine()
    conv = Conversation([Message("user", "What is the tallest mountain on Earth?")], date="2026-01-01")
    p1 = render_prompt(tok, conv)
    out1 = e.generate([p1], GREEDY)[0]
    answer = tok.decode([t for t in out1.new_token_ids if t < 199998]) or "Everest."
    conv.messages += [Message("assistant", answer), Message("user", "And the deepest trench?")]
    p2 = render_prompt(tok, conv)
    before = e.stats.prefill_tokens
    out2 = e.generate([p2], GREEDY)[0]
    prefilled = e.stats.prefill_tokens - before
    shared = next(i for i, (a, b) in enumerate(zip(p1, p2)) if a != b) if p1 != p2[:len(p1)] else len(p1)
    bs = e.args.block_size
    assert out2.cached_tokens == shared // bs * bs
    # only the tokens past the cached blocks are prefilled
    assert prefilled == len(p2) - out2.cached_tokens
    assert prefilled < len(p2) - len(p1) + bs
    snap = e.snapshot()  # what the TUI's status line shows
    assert snap["cached_prompt_tokens"] == out1.cached_tokens + out2.cached_tokens
    assert abs(snap["mean_ttft_s"] - (out1.ttft_s + out2.ttft_s) / 2) < 1e-3


def test_eviction_under_a_tiny_pool_keeps_outputs_right(prompts, alone):
    # 12 blocks of 16 tokens: every request fits alone, but the cache must evict to serve them all
    e = engine(num_kv_blocks=12, max_num_seqs=1)
    assert e.blocks.num_blocks == 12
    for _ in range(2):
        assert [o.new_token_ids for o in e.generate(prompts, GREEDY)] == alone
    assert e.blocks.cache.num_nodes <= 12


def test_preemption_under_a_tiny_pool_gives_identical_outputs(prompts, alone):
    e = engine(num_kv_blocks=8)
    assert e.blocks.num_blocks == 8
    outs = e.generate(prompts, GREEDY)
    assert e.scheduler.num_preemptions > 0
    assert [o.new_token_ids for o in outs] == alone


def test_request_too_large_for_the_pool_is_rejected_and_engine_goes_on(prompts, alone):
    e = engine(num_kv_blocks=4)
    huge = e.add_request(prompts[0], SamplingParams(temperature=0.0, max_tokens=500))
    ok = e.add_request(prompts[1], GREEDY)
    done = {}
    while e.has_unfinished():
        for o in e.step():
            done.setdefault(o.request_id, []).extend(o.new_token_ids)
            if o.finished:
                done[(o.request_id, "reason")] = (o.finish_reason, o.error)
    assert done[(huge, "reason")][0] == "error" and "KV blocks" in done[(huge, "reason")][1]
    assert done[ok] == alone[1]


def test_abort_frees_its_blocks(prompts):
    e = engine(prefix_caching=False)
    rid = e.add_request(prompts[0], SamplingParams(temperature=0.0, max_tokens=50))
    e.step()
    e.step()
    assert e.blocks.num_used > 0
    e.abort(rid)
    outs = e.step()
    assert [(o.request_id, o.finish_reason) for o in outs] == [(rid, "cancelled")]
    assert e.blocks.num_used == 0 and not e.has_unfinished()


def test_seeded_sampling_is_reproducible_across_batch_compositions(prompts):
    p = SamplingParams(temperature=0.8, top_p=0.9, top_k=50, seed=1234, max_tokens=10, stop_token_ids=())
    solo = engine().generate([prompts[2]], p)[0].new_token_ids
    others = SamplingParams(temperature=1.0, seed=7, max_tokens=10, stop_token_ids=())
    mixed = engine().generate([prompts[0], prompts[2], prompts[3]], [others, p, GREEDY])[1].new_token_ids
    assert solo == mixed
    different = engine().generate([prompts[2]], SamplingParams(temperature=0.8, seed=99, max_tokens=10,
                                                                stop_token_ids=()))[0].new_token_ids
    assert different != solo


def test_stop_token_ends_request_and_is_kept(prompts, alone):
    stop = alone[0][3]
    out = engine().generate([prompts[0]], SamplingParams(temperature=0.0, max_tokens=12, stop_token_ids=(stop,)))[0]
    assert out.finish_reason == "stop"
    assert out.new_token_ids == alone[0][:alone[0].index(stop) + 1]


def test_warmup_leaves_no_trace(prompts, alone):
    e = engine(max_num_batched_tokens=64)
    e.warmup()
    assert e.blocks.num_free == e.blocks.num_blocks and e.blocks.cache.num_nodes == 0
    assert e.blocks.num_swa_free == e.blocks.num_swa_blocks
    assert e.prompt_logits([0] * e.max_model_len) is None  # a prompt the context cannot hold is skipped
    assert [o.new_token_ids for o in e.generate(prompts, GREEDY)] == alone


def test_step_inputs_expanded_on_the_device_match_the_block_tables():
    """A prefill chunk that continues a cached prefix, a whole prompt and a decode row in one step: every token's
    position and KV slot (both pools) as the block tables say, tokens and sampled rows in chunk order."""
    from moechat.engine.model_runner import slot
    from moechat.engine.scheduler import ScheduledChunk
    from moechat.engine.sequence import Sequence

    engine = LLMEngine(EngineArgs(model="synthetic:tiny", device="cpu", num_kv_blocks=64))
    seqs = [Sequence(i, list(range(100 + i, 100 + i + n)), SamplingParams(max_tokens=4)) for i, n in
            enumerate((40, 23, 9))]
    for s in seqs:
        assert engine.blocks.allocate(s, s.length)
    chunks = [ScheduledChunk(seqs[0], 17, 23), ScheduledChunk(seqs[1], 0, 10, samples=False),
              ScheduledChunk(seqs[2], 8, 1)]
    tokens, positions, step, rows = engine.runner.prepare(chunks)
    want_pos = [p for c in chunks for p in range(c.start, c.start + c.length)]
    assert positions.tolist() == want_pos
    assert tokens.tolist() == [t for c in chunks for t in c.seq.tokens[c.start:c.start + c.length]]
    bs = engine.kv.block_size
    for batch, blocks in ((step.full, lambda s: s.blocks), (step.swa, lambda s: s.swa_blocks)):
        want = [slot(blocks(c.seq), p, bs) for c in chunks for p in range(c.start, c.start + c.length)]
        assert batch.slot_mapping.tolist() == want
        assert batch.query_start_host == [0, 23, 33, 34] and batch.context_lens_host == [40, 10, 9]
    assert rows.tolist() == [22, 33]  # the rows whose logits sample: the first and last chunks end their prompts
