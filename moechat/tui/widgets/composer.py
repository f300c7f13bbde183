"""The multi-line message box: Enter sends, Shift+Enter or Ctrl+J inserts a newline."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea


class Composer(TextArea):
    class Submitted(Message):
        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.editing_seq: int | None = None  # set while editing an earlier user message

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(self, text))
            return
        if event.key in ("shift+enter", "ctrl+j", "alt+enter"):
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        await super()._on_key(event)

    def set_editing(self, seq: int | None, text: str = "") -> None:
        self.editing_seq = seq
        if seq is not None:
            self.load_text(text)
            self.move_cursor(self.document.end)
        self.border_subtitle = "editing · Enter resends" if seq is not None else ""
        self.set_class(seq is not None, "-editing")
