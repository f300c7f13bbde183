"""EngineWorker: streaming, cancel, isolation of failures, clean shutdown; the incremental detokenizer."""

from __future__ import annotations

import threading

import pytest

from moechat.engine.harmony import Conversation, HarmonyStreamParser, Message
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import IncrementalDetokenizer, Tokenizer
from moechat.engine.worker import EngineArgs, EngineWorker


@pytest.fixture(scope="module")
def worker():
    w = EngineWorker(EngineArgs(model="synthetic:tiny", device="cpu")).start()
    w.wait_ready(timeout=120)
    yield w
    w.shutdown()
    assert not w._thread.is_alive()


def test_blocking_stream_equals_engine_output(worker):
    p = SamplingParams(temperature=0.0, max_tokens=10, stop_token_ids=())
    h = worker.submit_tokens(worker.tokenizer.encode("Hello there"), p)
    deltas = list(h)
    assert h.finish.reason == "length" and h.finish.generated_tokens == 10
    ids = [t for d in deltas for t in d.token_ids]
    assert len(ids) == 10
    assert "".join(d.text for d in deltas) == worker.tokenizer.decode(ids)


async def test_async_stream_batches_and_cancel_keeps_partial_output(worker):
    h = worker.submit_tokens(worker.tokenizer.encode("Tell me a story"),
                             SamplingParams(temperature=0.0, max_tokens=3000, stop_token_ids=()))
    got = []
    async for batch in h.stream():
        got += [t for d in batch for t in d.token_ids]
        if len(got) >= 5:
            h.cancel()
    assert h.finish.reason == "cancelled"
    assert 5 <= len(got) < 3000 and h.finish.generated_tokens == len(got)


def test_failing_request_does_not_stop_the_others(worker):
    p = SamplingParams(temperature=0.0, max_tokens=5, stop_token_ids=())
    bad = worker.submit_tokens([10**7], p)  # outside the vocabulary
    good = worker.submit_tokens(worker.tokenizer.encode("ok"), p)
    assert list(bad) == [] and bad.finish.reason == "error" and "vocabulary" in bad.finish.error
    assert len([t for d in good for t in d.token_ids]) == 5 and good.finish.reason == "length"


def test_chat_stream_from_many_threads(worker):
    results = {}

    def ask(i):
        h = worker.submit_chat(Conversation([Message("user", f"question {i}")]),
                               SamplingParams(temperature=0.0, max_tokens=6))
        results[i] = (list(h), h.finish)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 1, 2, 3]
    assert all(f.reason in ("length", "stop") and f.prompt_tokens > 20 for _, f in results.values())


def test_load_error_is_one_line():
    w = EngineWorker(EngineArgs(model="synthetic:nope", device="cpu")).start()
    with pytest.raises(Exception, match="unknown preset synthetic:nope"):
        w.wait_ready(timeout=60)
    w.shutdown()


def test_multibyte_character_split_across_tokens_is_delivered_whole():
    tok = Tokenizer()
    text = "🚀日本"
    ids = tok.encode(text)
    pieces = [tok.token_bytes(t) for t in ids]
    assert any(not _valid(p) for p in pieces), "the test needs a token that ends mid-character"
    d = IncrementalDetokenizer(tok)
    chunks = [d.push(t) for t in ids] + [d.flush()]
    assert all(_valid(c.encode()) and "\ufffd" not in c for c in chunks)
    assert "".join(chunks) == text


def test_harmony_parser_splits_channels():
    tok = Tokenizer()
    stream = tok.enc.encode("<|channel|>analysis<|message|>think é<|end|><|start|>assistant<|channel|>final<|message|>"
                            "answer<|return|>", allowed_special="all")
    parser = HarmonyStreamParser(tok)
    pieces = [p for t in stream for p in parser.push(t)] + parser.finish()
    by_channel = {}
    for p in pieces:
        by_channel[p.channel] = by_channel.get(p.channel, "") + p.text
    assert by_channel == {"analysis": "think é", "final": "answer"}


def _valid(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_output_that_never_closes_its_header_is_shown_as_the_answer():
    tok = Tokenizer()
    parser = HarmonyStreamParser(tok)
    ids = tok.encode("word " * 40)
    pieces = [p for t in ids for p in parser.push(t)] + parser.finish()
    assert {p.channel for p in pieces} == {"final"}
    assert "".join(p.text for p in pieces) == "word " * 40


async def test_stream_abandoned_with_its_event_loop_does_not_break_the_worker(worker):
    import asyncio

    def abandon():
        async def read_one():
            h = worker.submit_tokens([1, 2, 3], SamplingParams(temperature=0.0, max_tokens=200, stop_token_ids=()))
            async for _ in h.stream():
                return h  # leaves the stream (and then the loop) while tokens still come

        return asyncio.new_event_loop().run_until_complete(read_one())

    h = await asyncio.to_thread(abandon)
    h.cancel()
    after = worker.submit_tokens([4, 5], SamplingParams(temperature=0.0, max_tokens=3, stop_token_ids=()))
    assert await asyncio.to_thread(lambda: len([t for d in after for t in d.token_ids])) == 3
