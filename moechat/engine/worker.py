"""EngineWorker: one thread owns the engine (and so the CUDA context); others submit and stream.

A RequestHandle receives the engine's tokens as Deltas: text from an incremental detokenizer (never a
split UTF-8 character), the token ids, and the harmony channel. It can be read as a blocking iterator
(CLI) or as an async iterator of batches (Textual), which wakes the event loop once per engine step at
most, never once per token.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import traceback
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable

from moechat.engine.harmony import (
    CHAT_STOP_IDS,
    Conversation,
    HarmonyStreamParser,
    render_prompt,
)
from moechat.engine.llm_engine import EngineArgs, LLMEngine, RequestOutput
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import IncrementalDetokenizer, Tokenizer
from moechat.errors import MoechatError

__all__ = ["Delta", "EngineArgs", "EngineWorker", "Finish", "RequestHandle"]


def chat_params(params: SamplingParams) -> SamplingParams:
    """params with the harmony chat's stop tokens added (a reply ends at <|return|> or a tool call)."""
    return replace(params, stop_token_ids=tuple(dict.fromkeys(params.stop_token_ids + CHAT_STOP_IDS)))


@dataclass
class Delta:
    text: str
    token_ids: list[int]
    channel: str | None  # "analysis" | "commentary" | "final"; None for raw completions


@dataclass
class Finish:
    reason: str  # "stop" | "length" | "cancelled" | "error"
    error: str | None
    prompt_tokens: int
    cached_tokens: int
    generated_tokens: int
    ttft_s: float | None
    decode_tokens_per_s: float | None


class RequestHandle:
    def __init__(self, worker: "EngineWorker", prompt_ids: list[int], params: SamplingParams, harmony: bool):
        self.worker = worker
        self.prompt_ids = prompt_ids
        self.params = params
        self.request_id: int | None = None
        self.finish: Finish | None = None
        self._parser = HarmonyStreamParser(worker.tokenizer) if harmony else None
        self._detok = None if harmony else IncrementalDetokenizer(worker.tokenizer)
        self._pending: deque[Delta] = deque()
        self._done = False
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def cancel(self) -> None:
        self.worker._commands.put(("cancel", self))

    # --- called on the worker thread: raw token ids only, so detokenizing never delays the next step ---
    def _feed(self, out: RequestOutput) -> None:
        finish = None
        if out.finished:
            finish = Finish(out.finish_reason or "error", out.error, out.prompt_tokens, out.cached_tokens,
                            out.generated_tokens, out.ttft_s, out.decode_tokens_per_s)
        self._push(out.new_token_ids, finish)

    def _fail(self, message: str) -> None:
        self._push([], Finish("error", message, len(self.prompt_ids), 0, 0, None, None))

    def _push(self, tokens: list[int], finish: Finish | None) -> None:
        with self._cond:
            self._pending.extend(tokens)
            if finish is not None:
                self.finish, self._done = finish, True
            self._cond.notify_all()
            loop, event = self._loop, self._event
        if loop is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the consumer's event loop has closed: nobody is listening any more
                pass

    # --- consumers: turn token ids into text on the consumer's thread ---------------------------------
    def _take(self) -> tuple[list[int], bool]:
        with self._cond:
            tokens, done = list(self._pending), self._done
            self._pending.clear()
        return tokens, done

    def _deltas(self, tokens: list[int], done: bool) -> list[Delta]:
        deltas: list[Delta] = []
        for tok in tokens:
            if self._parser is None:
                deltas.append(Delta(self._detok.push(tok), [tok], None))
                continue
            pieces = [Delta(p.text, [], p.channel) for p in self._parser.push(tok)] or [Delta("", [], None)]
            pieces[-1].token_ids.append(tok)
            deltas += pieces
        if done:
            deltas += [Delta(p.text, [], p.channel) for p in self._parser.finish()] if self._parser else []
            if self._detok is not None:
                deltas.append(Delta(self._detok.flush(), [], None))
        return [d for d in deltas if d.text or d.token_ids]

    def __iter__(self):
        while True:
            with self._cond:
                while not self._pending and not self._done:
                    self._cond.wait()
            tokens, done = self._take()
            yield from self._deltas(tokens, done)
            if done:
                return

    async def stream(self):
        """Async iterator of list[Delta]: everything that arrived since the consumer last woke."""
        with self._cond:
            self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        try:
            while True:
                with self._cond:
                    if not self._pending and not self._done:
                        self._event.clear()
                tokens, done = self._take()
                batch = self._deltas(tokens, done)
                if batch:
                    yield batch
                if done:
                    return
                if not tokens:
                    await self._event.wait()
        finally:
            with self._cond:
                self._loop = self._event = None


class EngineWorker:
    def __init__(self, args: EngineArgs, on_load_progress: Callable[[int, int], None] | None = None):
        self.args = args
        self.tokenizer = Tokenizer()
        self.on_load_progress = on_load_progress
        self.engine: LLMEngine | None = None
        self.ready = threading.Event()
        self.load_error: str | None = None
        self._commands: queue.Queue = queue.Queue()
        self._handles: dict[int, RequestHandle] = {}
        self._thread = threading.Thread(target=self._run, name="moechat-engine", daemon=True)
        self._stats: dict = {}

    def start(self) -> "EngineWorker":
        self._thread.start()
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        if not self.ready.wait(timeout):
            raise MoechatError("the model is still loading")
        if self.load_error:
            raise MoechatError(self.load_error)

    def submit_tokens(self, prompt_ids: list[int], params: SamplingParams) -> RequestHandle:
        handle = RequestHandle(self, list(prompt_ids), params, harmony=False)
        self._commands.put(("submit", handle))
        return handle

    def submit_chat(self, conversation: Conversation, params: SamplingParams) -> RequestHandle:
        ids = render_prompt(self.tokenizer, conversation)
        handle = RequestHandle(self, ids, chat_params(params), harmony=True)
        self._commands.put(("submit", handle))
        return handle

    def stats(self) -> dict:
        return dict(self._stats)

    def shutdown(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._commands.put(("stop", None))
            self._thread.join(timeout)

    # --- the engine thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self.engine = LLMEngine(self.args, self.on_load_progress)
            self._stats = self.engine.snapshot()
        except MoechatError as e:
            self.load_error = str(e)
        except Exception as e:  # a load failure must reach the UI as one line, not kill the thread silently
            self.load_error = f"loading {self.args.model} failed: {type(e).__name__}: {e}"
        finally:
            self.ready.set()
        while True:
            block = self.engine is None or not self.engine.has_unfinished()
            try:
                while True:
                    cmd, handle = self._commands.get(block=block)
                    block = False
                    if cmd == "stop":
                        self._fail_all("the engine shut down")
                        return
                    self._apply(cmd, handle)
            except queue.Empty:
                pass
            if self.engine is not None and self.engine.has_unfinished():
                self._step()

    def _apply(self, cmd: str, handle: RequestHandle) -> None:
        if self.engine is None:
            handle._fail(self.load_error or "the engine is not loaded")
        elif cmd == "submit":
            handle.request_id = self.engine.add_request(handle.prompt_ids, handle.params)
            self._handles[handle.request_id] = handle
        elif cmd == "cancel" and handle.request_id is not None:
            self.engine.abort(handle.request_id)

    def _step(self) -> None:
        try:
            outputs = self.engine.step()
        except Exception as e:  # fail the requests in flight; the engine and other requests go on
            traceback.print_exc()
            self._fail_all(f"engine error: {type(e).__name__}: {e}")
            return
        for out in outputs:
            handle = self._handles.get(out.request_id)
            if handle is not None:
                handle._feed(out)
                if out.finished:
                    del self._handles[out.request_id]
        self._stats = self.engine.snapshot()

    def _fail_all(self, message: str) -> None:
        for rid, handle in list(self._handles.items()):
            if self.engine is not None:
                self.engine.abort(rid)  # its output comes out of the next step to no handle: dropped
            handle._fail(message)
        self._handles.clear()
