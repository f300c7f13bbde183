"""Helpers for the TUI tests: the real EngineWorker on synthetic:tiny, made to answer in text.

synthetic:tiny has random weights, so it never writes a harmony header and `submit_chat` would stream
no visible text. `TextAnswers` wraps the real worker: it renders the same harmony prompt, appends
`<|channel|>final<|message|>` so the model is already inside its answer, submits the tokens, and labels
the first `analysis_batches` batches as reasoning. Everything else (threads, batching, cancel, prefix
cache, stats) is the real engine. It records every request it receives.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from moechat.engine.harmony import Conversation, render_prompt
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import CHANNEL, MESSAGE
from moechat.engine.worker import Delta, EngineArgs, EngineWorker, chat_params

TINY = EngineArgs(model="synthetic:tiny", device="cpu", dtype="float32", kv_cache_gb=0.02)

_shared: EngineWorker | None = None
_lock = threading.Lock()


def shared_worker() -> EngineWorker:
    """One real engine for the whole test session (loading takes about a second)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = EngineWorker(TINY).start()
            _shared.wait_ready(timeout=120)
            import atexit

            atexit.register(_shared.shutdown)
    return _shared


@dataclass
class Request:
    conversation: Conversation
    params: SamplingParams
    prompt_ids: list[int]


class LabelledHandle:
    def __init__(self, inner, analysis_batches: int):
        self.inner = inner
        self.analysis_batches = analysis_batches

    def cancel(self) -> None:
        self.inner.cancel()

    @property
    def finish(self):
        return self.inner.finish

    async def stream(self):
        n = 0
        async for batch in self.inner.stream():
            channel = "analysis" if n < self.analysis_batches else "final"
            n += 1
            yield [Delta(d.text, d.token_ids, channel) for d in batch]


class TextAnswers:
    def __init__(self, worker: EngineWorker, analysis_batches: int = 0, fail_next: str | None = None):
        self.inner = worker
        self.analysis_batches = analysis_batches
        self.requests: list[Request] = []
        self.fail_next = fail_next

    @property
    def ready(self):
        return self.inner.ready

    @property
    def load_error(self):
        return self.inner.load_error

    def wait_ready(self, timeout=None):
        return self.inner.wait_ready(timeout)

    def stats(self) -> dict:
        return self.inner.stats()

    def start(self):
        return self

    def shutdown(self, timeout: float = 30.0) -> None:
        pass  # shared by the session

    def submit_chat(self, conversation: Conversation, params: SamplingParams):
        tok = self.inner.tokenizer
        ids = render_prompt(tok, conversation) + [CHANNEL] + tok.encode("final") + [MESSAGE]
        self.requests.append(Request(conversation, params, ids))
        if self.fail_next:
            msg, self.fail_next = self.fail_next, None
            raise RuntimeError(msg)
        return LabelledHandle(self.inner.submit_tokens(ids, chat_params(params)), self.analysis_batches)


def settings(**kw):
    from moechat.tui.store import SessionSettings

    base = dict(max_tokens=16, temperature=1.0)
    base.update(kw)
    return SessionSettings(**base)


def make_app(db_path, worker=None, export_dir=None, ids=None, **kw):
    """The app on a test database with a fixed clock, fixed session ids and a real (shared) engine."""
    from moechat.tui.app import MoechatApp
    from moechat.tui.config import EngineChoice

    counter = iter(ids or [f"s{i:07d}" for i in range(1, 1000)])
    opts = {"new_id": lambda: next(counter)}
    return MoechatApp(
        EngineChoice("synthetic:tiny", "cpu", "float32", 0.02),
        db_path,
        worker=worker if worker is not None else TextAnswers(shared_worker()),
        clock=kw.pop("clock", lambda: "2025-06-01T12:00:00+00:00"),
        export_dir=export_dir,
        config_file="/nonexistent/moechat/config.json",
        session_defaults=kw.pop("session_defaults", settings()),
        store_options=opts,
        **kw,
    )


async def wait_for(pilot, predicate, timeout: float = 20.0, what: str = "condition"):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def idle(pilot, app, timeout: float = 60.0):
    """Wait until no reply is streaming."""
    await wait_for(pilot, lambda: app.chat is not None and not app.chat.replies, timeout, "the reply to finish")
    await pilot.pause()
