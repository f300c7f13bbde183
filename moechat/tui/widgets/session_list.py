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
        width = max(10, (self.size.width or 30) - 4)
        for i, hit in enumerate(hits):
            s = hit.session
            label = Text(no_wrap=True, overflow="ellipsis")
            mark = "● " if s.id in streaming else ("▸ " if s.id == current else "  ")
            label.append(mark, style="bold")
            label.append(_cut(s.title, width - 2), style="bold" if s.id == current else "")
            label.append(f"\n  {s.updated_at[:10]} · {s.id}", style="dim")
            if hit.snippet and hit.snippet != s.title:
                label.append("\n  ")
                label.append_text(_snippet(hit.snippet, width - 2))
            if i:
                ol.add_option(None)
            ol.add_option(Option(label, id=s.id))
        ids = [h.session.id for h in hits]
        if current in ids:
            ol.highlighted = ol.get_option_index(current)
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
        """Enter in the search box opens the top hit."""
        event.stop()
        ol = self.options
        if ol.option_count:
            option = ol.get_option_at_index(ol.highlighted or 0)
            if option.id:
                self.post_message(self.Selected(option.id))

    def on_key(self, event) -> None:
        if event.key == "down" and self.search_input.has_focus:
            event.stop()
            self.options.focus()


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _snippet(snippet: str, width: int) -> Text:
    """One line of a search hit, cut so the first matched word (between \\x02 and \\x03) stays in view."""
    snippet = " ".join(snippet.split())
    start = snippet.find("\x02")
    if start > width // 3:
        snippet = "…" + snippet[start - width // 3 + 1:]
    out = Text(style="italic dim")
    visible = 0
    for i, part in enumerate(snippet.replace("\x03", "\x02").split("\x02")):
        room = width - visible
        if room <= 0:
            break
        piece = part if len(part) <= room else part[: max(0, room - 1)] + "…"
        out.append(piece, style="bold not dim" if i % 2 else "")
        visible += len(piece)
    return out
