"""The main screen: sessions on the left, the transcript and composer on the right, status at the bottom.

Replies stream in async tasks on the event loop: each wakes once per batch of deltas from the engine
thread, writes the text so far to SQLite, then appends it to the view (if the session is on screen).
Several sessions can stream at once; switching away leaves a reply running and switching back re-attaches it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label

from moechat.errors import MoechatError
from moechat.files import write_atomic
from moechat.tui.chat import (
    FINISH_STATUS,
    REASONING_CHANNELS,
    Reply,
    conversation_for,
    finish_stats,
    params_for,
)
from moechat.tui.export import render
from moechat.tui.screens.dialogs import ConfirmScreen, PromptScreen
from moechat.tui.screens.settings import SettingsScreen
from moechat.tui.store import Session, SessionSettings
from moechat.tui.widgets.composer import Composer
from moechat.tui.widgets.session_list import SessionList
from moechat.tui.widgets.status_bar import StatusBar
from moechat.tui.widgets.transcript import MessageView, Transcript

if TYPE_CHECKING:
    from moechat.tui.app import MoechatApp

UI_HZ = 15  # most screen updates per second for one streaming reply

EMPTY_HINT = (
    "Ask anything. Enter sends · Shift+Enter or Ctrl+J for a new line · Esc stops a reply · Ctrl+P for every command"
)


class ChatScreen(Screen):
    BINDINGS = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+n", "new_session", "New"),
        Binding("ctrl+r", "regenerate", "Regenerate"),
        Binding("ctrl+g", "edit_last", "Edit last"),
        Binding("ctrl+o", "settings", "Settings"),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+b", "toggle_sidebar", "Sessions"),
        Binding("f2", "rename", "Rename"),
        Binding("f8", "delete", "Delete"),
        Binding("ctrl+s", "export('md')", "Export"),
    ]

    app: MoechatApp

    def __init__(self) -> None:
        super().__init__(id="chat-screen")
        self.session: Session | None = None  # None: a new chat not stored until its first message
        self.draft_settings: SessionSettings | None = None
        self.replies: dict[str, Reply] = {}
        self.search_query = ""

    # --- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield SessionList(id="sidebar")
            with Vertical(id="chat"):
                yield Label("", id="session-title")
                yield Transcript(id="transcript")
                yield Composer(id="composer")
        yield StatusBar(id="status")
        yield Footer(compact=True)

    @property
    def store(self):
        return self.app.store

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def sidebar(self) -> SessionList:
        return self.query_one(SessionList)

    def _defaults(self) -> SessionSettings:
        from dataclasses import replace

        return replace(self.app.session_defaults)

    async def on_mount(self) -> None:
        self.draft_settings = self._defaults()
        c = self.app.engine_choice
        self.status.model, self.status.device = c.model, c.device or "auto"  # dtype and KV size: the settings screen
        self.app.sync_engine_state(self.status)
        if self.app.size.width < 72:
            self.sidebar.display = False
        sessions = self.store.list_sessions()
        await self.open_session(sessions[0].id if sessions else None)
        self.composer.focus()
        self.refresh_kv()
        self.set_interval(1.0, self.refresh_kv)

    # --- sessions ----------------------------------------------------------------------------------
    async def open_session(self, session_id: str | None) -> None:
        current = self.replies.get(self.session.id) if self.session else None
        if current is not None:
            current.view = None
        self.session = self.store.get_session(session_id) if session_id else None
        self.composer.set_editing(None)
        messages = self.store.messages(session_id) if session_id else []
        await self.transcript.show(messages, self.empty_hint())
        if session_id and session_id in self.replies:
            # Re-attach the running reply. The view was built from what the database held when it was read;
            # text that arrived while it was being mounted is appended now, before anything newer.
            reply = self.replies[session_id]
            view = self.transcript.view_for(reply.message_id)
            reply.view = view
            if view is not None:
                await view.append(reply.reasoning[len(view.reasoning_text):], reply.answer[len(view.answer_text):])
        self.update_title()
        self.refresh_sessions()
        last = next((m for m in reversed(messages) if m.stats), None)
        self.status.reply_stats = last.stats if last else None

    def empty_hint(self) -> str:
        if self.app.engine_error:
            return (f"The model could not be loaded:\n{self.app.engine_error}\n\n"
                    "Quit with Ctrl+Q and start moechat with --model PATH (a checkpoint directory) or --model "
                    "synthetic:tiny to try the app. Your chats are still here.")
        return EMPTY_HINT

    def engine_state_changed(self) -> None:
        self.app.sync_engine_state(self.status)
        for hint in self.query(".empty-hint"):
            hint.update(self.empty_hint())

    def update_title(self) -> None:
        s = self.session
        if s is None:
            st = self.draft_settings
            text = f"New chat · reasoning {st.reasoning} · temperature {st.temperature:g}"
        else:
            text = f"{s.title} · reasoning {s.reasoning} · temperature {s.temperature:g} · top-p {s.top_p:g}"
            if s.instructions:
                text += " · instructions set"
        self.query_one("#session-title", Label).update(text)

    def refresh_sessions(self) -> None:
        hits = self.store.search(self.search_query)
        self.sidebar.show(hits, self.session.id if self.session else None, set(self.replies))

    @on(SessionList.Selected)
    async def _session_selected(self, event: SessionList.Selected) -> None:
        if self.session is None or event.session_id != self.session.id:
            await self.open_session(event.session_id)
        self.composer.focus()

    @on(SessionList.SearchChanged)
    def _search_changed(self, event: SessionList.SearchChanged) -> None:
        self.search_query = event.query
        self.refresh_sessions()

    def _ensure_session(self) -> Session:
        if self.session is None:
            self.session = self.store.create_session(settings=self.draft_settings)
            self.draft_settings = self._defaults()
        return self.session

    # --- sending and streaming ---------------------------------------------------------------------
    @on(Composer.Submitted)
    async def _submitted(self, event: Composer.Submitted) -> None:
        await self.send(event.text)

    async def send(self, text: str) -> None:
        session = self._ensure_session()
        if session.id in self.replies:
            self.app.notify("A reply is still streaming in this chat; Esc stops it.", severity="warning")
            return
        editing = self.composer.editing_seq
        self.composer.set_editing(None)
        self.composer.clear()
        if editing is not None:
            self.store.delete_messages_from(session.id, editing)
            self.session = session = self.store.get_session(session.id)
            await self.transcript.show(self.store.messages(session.id), self.empty_hint())
        user = self.store.add_message(session.id, "user", text)
        await self.transcript.add(user)
        self.session = self.store.get_session(session.id)
        self.update_title()
        await self.start_reply(self.session.id)

    async def start_reply(self, session_id: str) -> None:
        session = self.store.get_session(session_id)
        history = self.store.messages(session_id)
        placeholder = self.store.add_message(session_id, "assistant", "", status="streaming")
        reply = Reply(session_id, placeholder.id)
        self.replies[session_id] = reply
        if self.session is not None and self.session.id == session_id:
            reply.view = await self.transcript.add(placeholder)
        self.refresh_sessions()
        self.status.streaming = len(self.replies)
        self.run_worker(self._stream(reply, session, history), group="replies", exit_on_error=False)

    async def _stream(self, reply: Reply, session: Session, history) -> None:
        # "stopped" unless the stream ends normally or fails: the task is cancelled when the app quits
        status, error, stats = "stopped", None, None
        try:
            worker = self.app.engine_worker
            if worker is None:
                raise RuntimeError(self.app.engine_error or "the engine is not running")
            reply.handle = worker.submit_chat(conversation_for(session, history), params_for(session))
            if reply.stop_requested:
                reply.handle.cancel()
            last_flush = 0.0
            async for batch in reply.handle.stream():
                reply.tokens += sum(len(d.token_ids) for d in batch)
                reply.pending_reasoning += "".join(d.text for d in batch if d.channel in REASONING_CHANNELS)
                reply.pending_answer += "".join(d.text for d in batch if d.channel not in REASONING_CHANNELS)
                # The engine may wake us every step; the screen is updated at most UI_HZ times a second, so
                # redraws (and the GIL they hold) never slow decoding down.
                now = time.monotonic()
                if now - last_flush >= 1 / UI_HZ:
                    last_flush = now
                    await self._flush(reply)
            await self._flush(reply)
            finish = reply.handle.finish
            if finish is not None:
                status = FINISH_STATUS.get(finish.reason, "error")
                error = finish.error if status == "error" else None
                stats = finish_stats(finish)
        except Exception as e:  # an engine fault shows in this reply; the app and the next message go on
            status, error = "error", f"{type(e).__name__}: {e}" if not isinstance(e, RuntimeError) else str(e)
        finally:
            if reply.pending_answer or reply.pending_reasoning:
                reply.answer += reply.pending_answer
                reply.reasoning += reply.pending_reasoning
                reply.pending_answer = reply.pending_reasoning = ""
            if reply.stop_requested and status == "done":
                status = "stopped"
            if self.app.store is not None:
                self.store.update_message(reply.message_id, content=reply.answer, reasoning=reply.reasoning,
                                          status=status, error=error or "", stats=stats)
            self.replies.pop(reply.session_id, None)
            if reply.view is not None and reply.view.is_attached:
                await reply.view.finish(status, error)
            self.status.streaming = len(self.replies)
            if stats is not None and self.session is not None and self.session.id == reply.session_id:
                self.status.reply_stats = stats
            self.refresh_kv()
            if self.is_attached:
                self.refresh_sessions()

    async def _flush(self, reply: Reply) -> None:
        reasoning, answer = reply.pending_reasoning, reply.pending_answer
        reply.pending_reasoning = reply.pending_answer = ""
        view = reply.view if reply.view is not None and reply.view.is_attached else None
        if view is not None and reply.tokens != view.tokens:
            view.count_tokens(reply.tokens - view.tokens)
        if not (reasoning or answer):
            return
        reply.reasoning += reasoning
        reply.answer += answer
        # saved before it is shown, so a kill never loses text that was on screen
        self.store.update_message(reply.message_id, content=reply.answer, reasoning=reply.reasoning)
        if view is not None:
            await view.append(reasoning, answer)

    def refresh_kv(self) -> None:
        worker = self.app.engine_worker
        if worker is not None and self.app.engine_ready:
            try:
                self.status.engine_stats = worker.stats()
            except Exception:
                pass

    # --- actions -----------------------------------------------------------------------------------
    def action_stop(self) -> None:
        if self.session is not None and self.session.id in self.replies:
            self.replies[self.session.id].cancel()
        elif self.composer.editing_seq is not None:
            self.composer.set_editing(None)
            self.composer.clear()
        elif isinstance(self.focused, MessageView) or self.focused is self.sidebar.search_input:
            self.composer.focus()

    async def action_new_session(self) -> None:
        await self.open_session(None)
        self.composer.focus()

    async def action_regenerate(self) -> None:
        s = self.session
        if s is None:
            return
        if s.id in self.replies:
            self.app.notify("Wait for the reply to finish, or stop it with Esc.", severity="warning")
            return
        messages = self.store.messages(s.id)
        if not messages:
            return
        if messages[-1].role == "assistant":
            self.store.delete_messages_from(s.id, messages[-1].seq)
            await self.transcript.show(self.store.messages(s.id), self.empty_hint())
        await self.start_reply(s.id)

    async def action_edit_last(self) -> None:
        s = self.session
        if s is None:
            return
        if s.id in self.replies:
            self.replies[s.id].cancel()
            self.app.notify("Stopped the reply to edit the message.")
        last_user = next((m for m in reversed(self.store.messages(s.id)) if m.role == "user"), None)
        if last_user is None:
            return
        self.composer.set_editing(last_user.seq, last_user.content)
        self.composer.focus()

    def action_settings(self) -> None:
        s = self.session
        settings = self.store.session_settings(s.id) if s else self.draft_settings
        title = s.title if s else "New chat"

        def done(result: SessionSettings | None) -> None:
            if result is None:
                return
            if self.session is None:
                self.draft_settings = result
            else:
                self.store.update_settings(self.session.id, result)
                self.session = self.store.get_session(self.session.id)
            self.update_title()
            self.app.notify("Settings saved; they apply from the next message.")

        self.app.push_screen(SettingsScreen(settings, self.app.engine_choice, str(self.app.config_file), title), done)

    def action_search(self) -> None:
        self.sidebar.display = True
        self.sidebar.search_input.focus()

    def action_toggle_sidebar(self) -> None:
        self.sidebar.display = not self.sidebar.display
        if not self.sidebar.display and self.sidebar.has_focus_within:
            self.composer.focus()

    def action_rename(self) -> None:
        if self.session is None:
            self.app.notify("Send a first message to start this chat, then rename it.")
            return

        def done(title: str | None) -> None:
            if title and self.session is not None:
                self.store.rename_session(self.session.id, title)
                self.session = self.store.get_session(self.session.id)
                self.update_title()
                self.refresh_sessions()

        self.app.push_screen(PromptScreen("Rename chat", self.session.title), done)

    def action_delete(self) -> None:
        if self.session is None:
            return
        target = self.session

        async def done(yes: bool | None) -> None:
            if not yes:
                return
            if target.id in self.replies:
                self.replies[target.id].cancel()
            self.store.delete_session(target.id)
            rest = self.store.list_sessions()
            await self.open_session(rest[0].id if rest else None)
            self.app.notify(f"Deleted “{target.title}”.")

        self.app.push_screen(ConfirmScreen(f"Delete “{target.title}” and all its messages?"), done)

    async def branch_at(self, seq: int) -> None:
        if self.session is None:
            return
        if self.session.id in self.replies:
            self.app.notify("Wait for the reply to finish before branching.", severity="warning")
            return
        new = self.store.branch_session(self.session.id, seq)
        await self.open_session(new.id)
        self.app.notify(f"Branched into a new chat ({new.id}).")
        self.composer.focus()

    async def action_branch_last(self) -> None:
        if self.session is not None:
            messages = self.store.messages(self.session.id)
            if messages:
                await self.branch_at(messages[-1].seq)

    def copy_text(self, text: str, what: str = "message") -> None:
        self.app.copy_to_clipboard(text)
        self.app.notify(f"Copied the {what} ({len(text)} characters).")

    def action_copy_last(self) -> None:
        if self.session is None:
            return
        last = next((m for m in reversed(self.store.messages(self.session.id)) if m.role == "assistant"), None)
        if last is not None:
            self.copy_text(last.content, "last answer")

    def action_export(self, fmt: str) -> None:
        if self.session is None:
            self.app.notify("Nothing to export yet.")
            return
        try:
            path = self.export_session(self.session.id, fmt)
        except MoechatError as e:  # an unwritable export folder: said, and the app goes on
            self.app.notify(f"Export failed: {e}", severity="error")
            return
        self.app.notify(f"Exported to {path}")

    def export_session(self, session_id: str, fmt: str) -> Path:
        s = self.store.get_session(session_id)
        slug = re.sub(r"[^a-z0-9]+", "-", s.title.lower()).strip("-")[:40] or "chat"
        out_dir = Path(self.app.export_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise MoechatError(f"{out_dir}: cannot create the folder: {e.strerror}") from None
        path = out_dir / f"{slug}-{s.id}.{'md' if fmt in ('md', 'markdown') else 'json'}"
        write_atomic(str(path), render(s, self.store.messages(s.id), fmt))
        return path

    @on(MessageView.Action)
    async def _message_action(self, event: MessageView.Action) -> None:
        view = event.view
        if event.action == "copy":
            self.copy_text(view.answer_text, "message")
        elif event.action == "branch":
            if view.msg_status == "streaming":
                self.app.notify("Wait for the reply to finish before branching.", severity="warning")
                return
            await self.branch_at(view.stored.seq)
