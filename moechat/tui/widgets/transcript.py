"""The conversation: one MessageView per message, scrolled to the newest while it streams.

An assistant message holds a dimmed, collapsible reasoning block (the analysis channel) above the
answer. Both stream through Textual's MarkdownStream, which coalesces fragments when the terminal
can't keep up, so decode speed never waits on redraws.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Collapsible, Label, Markdown, Static
from textual.widgets._markdown import MarkdownStream

from moechat.tui.store import StoredMessage

STATUS_NOTE = {
    "stopped": "stopped",
    "length": "cut at max tokens",
    "error": "error",
    "streaming": "…",
}


class MessageView(Vertical, can_focus=True):
    BINDINGS = [
        Binding("c", "copy", "Copy"),
        Binding("b", "branch", "Branch here"),
    ]

    class Action(Message):
        def __init__(self, view: MessageView, action: str) -> None:
            super().__init__()
            self.view = view
            self.action = action

    def __init__(self, message: StoredMessage, **kwargs) -> None:
        super().__init__(classes=f"message {message.role}", **kwargs)
        self.stored = message
        self.answer_text = message.content
        self.reasoning_text = message.reasoning
        self.msg_status = message.status
        self.error_text = message.error
        self._append_lock = asyncio.Lock()
        self.tokens = 0  # tokens received while streaming (shown even before any text arrives)
        self._answer_stream: MarkdownStream | None = None
        self._reasoning_stream: MarkdownStream | None = None

    # --- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Label(self._header(), classes="header")
        if self.stored.role == "assistant":
            with Collapsible(title="Reasoning", collapsed=bool(self.answer_text) or self.msg_status != "streaming",
                             classes="reasoning") as c:
                c.display = bool(self.reasoning_text)
                yield Markdown(self.reasoning_text, classes="reasoning-text")
        if self.stored.role == "user":
            yield Static(Text(self.answer_text), classes="body user-text")  # as typed: newlines kept, no markup
        else:
            yield Markdown(self.answer_text, classes="body")
        yield Static(self._error_text(), classes="error")

    def on_mount(self) -> None:
        self.query_one(".error").display = bool(self.error_text)

    def _header(self) -> Text:
        t = Text()
        if self.stored.role == "user":
            t.append("You", style="bold")
        else:
            t.append("Assistant", style="bold")
        note = STATUS_NOTE.get(self.msg_status)
        if self.msg_status == "streaming" and self.tokens:
            note = f"… {self.tokens} tokens"
        if note:
            t.append(f"  {note}", style="italic")
        return t

    def _error_text(self) -> Text:
        return Text(f"⚠ {self.error_text}" if self.error_text else "")

    @property
    def body(self) -> Markdown:
        return self.query_one(".body", Markdown)

    @property
    def shown_text(self) -> str:
        """The text on screen: a user message as typed, an answer's Markdown source."""
        if self.stored.role == "user":
            return str(self.query_one(".body", Static).render())
        return self.body.source

    # --- streaming ---------------------------------------------------------------------------------
    def count_tokens(self, n: int) -> None:
        self.tokens += n
        self.query_one(".header", Label).update(self._header())

    async def append(self, reasoning: str, answer: str) -> None:
        async with self._append_lock:  # appends land in the order they were asked for
            await self._append(reasoning, answer)

    async def _append(self, reasoning: str, answer: str) -> None:
        if reasoning:
            self.reasoning_text += reasoning
            block = self.query_one(Collapsible)
            if not block.display:
                block.display = True
                block.collapsed = bool(self.answer_text)
            if self._reasoning_stream is None:
                self._reasoning_stream = Markdown.get_stream(self.query_one(".reasoning-text", Markdown))
            await self._reasoning_stream.write(reasoning)
        if answer:
            if not self.answer_text and self.stored.role == "assistant":
                self.query_one(Collapsible).collapsed = True  # the answer started: fold the reasoning
            self.answer_text += answer
            if self._answer_stream is None:
                self._answer_stream = Markdown.get_stream(self.body)
            await self._answer_stream.write(answer)

    async def finish(self, status: str, error: str | None = None) -> None:
        await self._stop_streams()
        self.msg_status = status
        self.error_text = error
        self.query_one(".header", Label).update(self._header())
        err = self.query_one(".error", Static)
        err.update(self._error_text())
        err.display = bool(error)
        self.set_class(status == "error", "-error")

    async def _stop_streams(self) -> None:
        for name in ("_reasoning_stream", "_answer_stream"):
            stream = getattr(self, name)
            if stream is not None:
                setattr(self, name, None)
                await stream.stop()

    async def on_unmount(self) -> None:
        await self._stop_streams()

    # --- actions -----------------------------------------------------------------------------------
    def action_copy(self) -> None:
        self.post_message(self.Action(self, "copy"))

    def action_branch(self) -> None:
        self.post_message(self.Action(self, "branch"))


class Transcript(VerticalScroll):
    """Message views in order; stays at the bottom while text streams unless the user scrolls up."""

    def on_mount(self) -> None:
        self.anchor()

    async def show(self, messages: list[StoredMessage], empty_hint: str = "") -> list[MessageView]:
        await self.remove_children()
        views = [MessageView(m, id=f"m{m.id}") for m in messages]
        if views:
            await self.mount_all(views)
        else:
            await self.mount(Static(empty_hint, classes="empty-hint"))
        self.anchor()
        return views

    async def add(self, message: StoredMessage) -> MessageView:
        for hint in self.query(".empty-hint"):
            await hint.remove()
        view = MessageView(message, id=f"m{message.id}")
        await self.mount(view)
        self.anchor()
        return view

    def views(self) -> list[MessageView]:
        return list(self.query(MessageView))

    def view_for(self, message_id: int) -> MessageView | None:
        try:
            return self.query_one(f"#m{message_id}", MessageView)
        except Exception:
            return None
