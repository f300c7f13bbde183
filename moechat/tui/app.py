"""MoechatApp: opens the session store, starts the engine worker in the background, shows the chat screen.

The engine is built on a thread (importing torch and loading weights take seconds); its load progress
arrives as messages posted from that thread. The app talks to the engine only through EngineWorker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen

from moechat.tui import config as config_mod
from moechat.tui.config import EngineChoice
from moechat.tui.screens.chat import ChatScreen
from moechat.tui.screens.dialogs import DatabaseErrorScreen
from moechat.tui.store import SessionSettings, Store, StoreError, start_fresh


class EngineProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class EngineReady(Message):
    pass


class EngineFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class MoechatApp(App):
    CSS_PATH = "moechat.tcss"
    TITLE = "moechat"

    def __init__(
        self,
        engine: EngineChoice,
        db_path: str | os.PathLike,
        *,
        worker: Any = None,
        worker_factory: Callable[..., Any] | None = None,
        clock: Callable[[], str] | None = None,
        export_dir: str | os.PathLike | None = None,
        config_file: str | os.PathLike | None = None,
        session_defaults: SessionSettings | None = None,
        store_options: dict | None = None,
    ) -> None:
        super().__init__()
        self.engine_choice = engine
        self.db_path = str(db_path)
        self.session_defaults = session_defaults or SessionSettings()
        self.store_options = dict(store_options or {})
        if clock:
            self.store_options["clock"] = clock
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.config_file = Path(config_file) if config_file else config_mod.config_path()
        self.store: Store | None = None
        self.engine_worker = worker  # given: owned by the caller (tests share one); else built here
        self._owns_worker = worker is None
        self._worker_factory = worker_factory
        self.engine_ready = False
        self.engine_error: str | None = None
        self.load_progress = 0.0
        self.chat: ChatScreen | None = None

    # --- startup -----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._start_engine()
        self._open_store()

    def _open_store(self) -> None:
        try:
            self.store = Store(self.db_path, **self.store_options)
        except StoreError as e:
            self.push_screen(DatabaseErrorScreen(str(e), self.db_path), self._database_choice)
            return
        self.chat = ChatScreen()
        self.push_screen(self.chat)

    def _database_choice(self, choice: str | None) -> None:
        if choice != "new":
            self.exit(return_code=1, message="moechat: the chat database could not be opened")
            return
        try:
            kept = start_fresh(self.db_path) if os.path.exists(self.db_path) else None
        except OSError as e:
            self.exit(return_code=1, message=f"moechat: can't move {self.db_path} aside: {e}")
            return
        self._open_store()
        if kept and self.store is not None:
            self.notify(f"Started a new chat database. The old file is kept at {kept}", timeout=10)

    def _start_engine(self) -> None:
        if self.engine_worker is not None:
            if self.engine_worker.ready.is_set():
                self._engine_loaded()
            else:
                self.run_worker(self._wait_for_engine, thread=True, group="engine")
            return
        self.run_worker(self._boot_engine, thread=True, group="engine")

    def _boot_engine(self) -> None:
        """On a thread: import the engine (torch), build the worker, wait for the weights."""
        try:
            if self._worker_factory is not None:
                worker = self._worker_factory(self.engine_choice, self._progress_from_thread)
            else:
                from moechat.engine.worker import EngineArgs, EngineWorker

                c = self.engine_choice
                args = EngineArgs(model=c.model, device=c.device, dtype=c.dtype, kv_cache_gb=c.kv_cache_gb,
                                  tensor_parallel=c.tensor_parallel)
                worker = EngineWorker(args, on_load_progress=self._progress_from_thread)
            worker.start()
            self.engine_worker = worker
        except Exception as e:
            self.post_message(EngineFailed(_one_line(e)))
            return
        self._wait_for_engine()

    def _wait_for_engine(self) -> None:
        try:
            self.engine_worker.wait_ready()
        except Exception as e:
            self.post_message(EngineFailed(_one_line(e)))
            return
        self.post_message(EngineReady())

    def _progress_from_thread(self, done: int, total: int) -> None:
        self.post_message(EngineProgress(done, total))  # thread-safe; one message per loaded tensor group

    def on_engine_progress(self, event: EngineProgress) -> None:
        self.load_progress = event.done / event.total if event.total else 0.0
        self._sync()

    def on_engine_ready(self, _: EngineReady) -> None:
        self._engine_loaded()

    def _engine_loaded(self) -> None:
        self.engine_ready = True
        self._sync()
        if self.chat is not None and self.chat.is_attached:
            self.chat.refresh_kv()

    def on_engine_failed(self, event: EngineFailed) -> None:
        self.engine_error = event.error
        self._sync()
        self.notify(f"The model could not be loaded: {event.error}", severity="error", timeout=15)

    def _sync(self) -> None:
        if self.chat is not None and self.chat.is_attached:
            self.chat.engine_state_changed()

    def sync_engine_state(self, status) -> None:
        if self.engine_error:
            status.state, status.error = "error", self.engine_error
        elif self.engine_ready:
            status.state = "ready"
        else:
            status.state = "loading" if self.load_progress else "starting"
            status.progress = self.load_progress

    # --- commands ----------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, ChatScreen):
            return
        c = screen

        def act(name: str) -> Callable[[], Any]:
            async def run() -> None:
                await c.run_action(name)

            return run

        yield SystemCommand("New chat", "Start a new chat session (Ctrl+N)", act("new_session"))
        yield SystemCommand("Stop reply", "Stop generating; the partial answer is kept (Esc)", act("stop"))
        yield SystemCommand("Regenerate answer", "Generate the last answer again (Ctrl+R)", act("regenerate"))
        yield SystemCommand("Edit last message", "Edit and resend your last message (Ctrl+G)", act("edit_last"))
        yield SystemCommand("Copy last answer", "Copy the last answer to the clipboard", act("copy_last"))
        yield SystemCommand("Branch chat", "Fork this chat at its last message into a new chat",
                            act("branch_last"))
        yield SystemCommand("Session settings", "Instructions, reasoning effort, temperature, top-p, max tokens "
                            "(Ctrl+O)", act("settings"))
        yield SystemCommand("Rename chat", "Give this chat a new title (F2)", act("rename"))
        yield SystemCommand("Delete chat", "Delete this chat after confirming (F8)", act("delete"))
        yield SystemCommand("Search chats", "Full-text search over titles and messages (Ctrl+F)", act("search"))
        yield SystemCommand("Toggle session list", "Show or hide the session list (Ctrl+B)", act("toggle_sidebar"))
        yield SystemCommand("Export as Markdown", "Write this chat to a .md file (Ctrl+S)", act("export('md')"))
        yield SystemCommand("Export as JSON", "Write this chat to a .json file", act("export('json')"))

    # --- shutdown ----------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        self._stop_replies()
        self.exit()

    def _stop_replies(self) -> None:
        if self.chat is not None:
            for reply in list(self.chat.replies.values()):
                reply.cancel()
                if self.store is not None:  # the stream task may not get to run again: record it here
                    self.store.update_message(reply.message_id, content=reply.answer, reasoning=reply.reasoning,
                                              status="stopped")

    def on_unmount(self) -> None:
        self._stop_replies()
        if self._owns_worker and self.engine_worker is not None:
            self.engine_worker.shutdown(timeout=10)
        if self.store is not None:
            self.store.close()
            self.store = None


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
