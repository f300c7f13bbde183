"""Running decode step N+1 before step N's tokens reach the host changes no output (CPU, synthetic:tiny)."""

from __future__ import annotations

import pytest

from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer


def engine(run_ahead: bool, **kw) -> LLMEngine:
    e = LLMEngine(EngineArgs(model="synthetic:tiny", device="cpu", run_ahead=run_ahead, **kw))
    e.ahead_launches = 0
    run = e.runner.run

    def counting_run(chunks, device_tokens=None):
        e.ahead_launches += device_tokens is not None
        return run(chunks, device_tokens)

    e.runner.run = counting_run
    return e


@pytest.fixture(scope="module")
def prompts() -> list[list[int]]:
    tok = Tokenizer()
    return [tok.encode(t) for t in ("The river runs to the sea", "Count: 1 2 3 4 5 6 7 8", "Bonjour", "A")]


def test_same_tokens_with_and_without_run_ahead(prompts):
    base = engine(False).generate([prompts[0]], SamplingParams(temperature=0.0, max_tokens=30, stop_token_ids=()))
    stop = base[0].new_token_ids[9]  # a token the greedy run emits: one request stops early, mid-batch
    params = [SamplingParams(temperature=0.0, max_tokens=30, stop_token_ids=(stop,)),
              SamplingParams(temperature=0.8, top_p=0.9, seed=5, max_tokens=17, stop_token_ids=()),
              SamplingParams(temperature=0.0, max_tokens=1, stop_token_ids=()),
              SamplingParams(temperature=1.0, top_k=20, seed=9, max_tokens=25, stop_token_ids=())]
    outs = {}
    for ahead in (False, True):
        e = engine(ahead)
        got = e.generate(prompts, params)
        outs[ahead] = [(o.new_token_ids, o.finish_reason) for o in got]
        assert (e.ahead_launches > 0) == ahead
        assert e.blocks.num_used == 0 and not e.has_unfinished()
    assert outs[True] == outs[False]
    assert outs[True][0][1] == "stop" and outs[True][2][0] == outs[False][2][0] and len(outs[True][2][0]) == 1


def test_abort_and_late_joiners_during_run_ahead(prompts):
    p = SamplingParams(temperature=0.0, max_tokens=20, stop_token_ids=())
    alone = [engine(False).generate([x], p)[0].new_token_ids for x in prompts[:2]]
    e = engine(True)
    first = e.add_request(prompts[0], p)
    doomed = e.add_request(prompts[2], SamplingParams(temperature=0.0, max_tokens=50, stop_token_ids=()))
    got = {first: [], doomed: []}
    for _ in range(6):
        for o in e.step():
            got[o.request_id] += o.new_token_ids
    assert e.ahead_launches > 0
    e.abort(doomed)
    late = e.add_request(prompts[1], p)
    got[late] = []
    reasons = {}
    while e.has_unfinished():
        for o in e.step():
            got[o.request_id] += o.new_token_ids
            if o.finished:
                reasons[o.request_id] = o.finish_reason
    assert got[first] == alone[0] and got[late] == alone[1]
    assert reasons[doomed] == "cancelled" and 0 < len(got[doomed]) < 50
    assert e.blocks.num_used == 0
