"""One line at the bottom: the engine (model, device, load progress or error), the last reply's speed
(prompt tokens reused versus prefilled, time to first token, tokens/s) and the KV cache in use. When the full
line does not fit the terminal, a compact one keeps every part: the model's last path part, the reply's time
to first token and speed, the KV cache as a percentage."""

from __future__ import annotations

import os

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


def reply_stats_text(stats: dict | None, compact: bool = False) -> str:
    if not stats:
        return ""
    prompt = stats.get("prompt_tokens") or 0
    cached = stats.get("cached_tokens") or 0
    parts = [] if compact else [f"{cached} reused + {prompt - cached} prefilled"]
    ttft = stats.get("ttft_s")
    if ttft is not None:
        parts.append(f"TTFT {ttft * 1000:.0f} ms" if ttft < 1 else f"TTFT {ttft:.2f} s")
    tps = stats.get("decode_tokens_per_s")
    if tps:
        parts.append(f"{tps:.1f} tok/s")
    return " · ".join(parts)


def kv_text(engine_stats: dict | None, compact: bool = False) -> str:
    if not engine_stats:
        return ""
    used, total = engine_stats.get("kv_blocks_used"), engine_stats.get("kv_blocks_total")
    if used is None or not total:
        return ""
    return f"KV {used / total:.0%}" if compact else f"KV {used}/{total}"


class StatusBar(Static):
    model = reactive("")
    device = reactive("")
    state = reactive("starting")  # starting | loading | ready | error
    progress = reactive(0.0)
    error = reactive("")
    reply_stats: reactive[dict | None] = reactive(None)  # the shown reply's stats, as the store keeps them
    engine_stats: reactive[dict | None] = reactive(None)  # the worker's snapshot (KV cache in use)
    streaming = reactive(0)

    def render(self) -> Text:
        line = self.line(compact=False)
        width = self.content_size.width
        return line if line.cell_len <= width or not width else self.line(compact=True)

    def line(self, compact: bool) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        model = (os.path.basename(self.model.rstrip("/")) or self.model) if compact else self.model
        t.append(f" {model} · {self.device} ", style="bold")
        if self.state == "loading":
            t.append(f" loading {self.progress:.0%} ", style="reverse")
        elif self.state == "starting":
            t.append(" starting… ", style="italic")
        elif self.state == "error":
            t.append(" engine error ", style="bold reverse red")
            t.append(f" {self.error}", style="red")
            return t
        if self.streaming:
            t.append(" ● generating ", style="bold")
        elif self.state == "ready":
            t.append(" ready ", style="dim")
        for part in (reply_stats_text(self.reply_stats, compact), kv_text(self.engine_stats, compact)):
            if part:
                t.append(" │ ", style="dim")
                t.append(part)
        return t
