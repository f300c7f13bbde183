"""The sidebar: a search box (full text over titles and messages) above the list of sessions."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from moechat.tui.store import SearchHit


class SessionList(Vertical):
    class Selected(Message):
        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    class SearchChanged(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search chats…", id="search")
        yield OptionList(id="sessions")

    @property
    def options(self) -> OptionList:
        return self.query_one("#sessions", OptionList)

    @property
    def search_input(self) -> Input:
        return self.query_one("#search", Input)

    def show(self, hits: list[SearchHit], current: str | None, streaming: set[str] = frozenset()) -> None:
        ol = self.options
        ol.clear_options()
        for hit in hits:
            s = hit.session
            label = Text(no_wrap=True, overflow="ellipsis")
            if s.id in streaming:
                label.append("● ", style="bold")
            label.append(s.title, style="bold" if s.id == current else "")
            label.append(f"\n{s.updated_at[:10]} · {s.id}", style="dim")
            if hit.snippet and hit.snippet != s.title:
                label.append(f"\n{hit.snippet}", style="italic dim")
            ol.add_option(Option(label, id=s.id))
        ids = [h.session.id for h in hits]
        if current in ids:
            ol.highlighted = ids.index(current)
        elif ids:
            ol.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Selected(event.option.id))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.SearchChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.options.focus()
