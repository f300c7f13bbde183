"""One line at the bottom: the engine (model, device, load progress or error), the last reply's speed
(prompt tokens reused versus prefilled, time to first token, tokens/s) and the KV cache in use."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


def reply_stats_text(stats: dict | None) -> str:
    if not stats:
        return ""
    prompt = stats.get("prompt_tokens") or 0
    cached = stats.get("cached_tokens") or 0
    parts = [f"{cached} reused + {prompt - cached} prefilled"]
    ttft = stats.get("ttft_s")
    if ttft is not None:
        parts.append(f"TTFT {ttft * 1000:.0f} ms" if ttft < 1 else f"TTFT {ttft:.2f} s")
    tps = stats.get("decode_tokens_per_s")
    if tps:
        parts.append(f"{tps:.1f} tok/s")
    return " · ".join(parts)


def kv_text(engine_stats: dict | None) -> str:
    if not engine_stats:
        return ""
    used, total = engine_stats.get("kv_blocks_used"), engine_stats.get("kv_blocks_total")
    if used is None or not total:
        return ""
    return f"KV {used}/{total}"


class StatusBar(Static):
    engine = reactive("")  # "model · device"
    state = reactive("starting")  # starting | loading | ready | error
    progress = reactive(0.0)
    error = reactive("")
    reply = reactive("")
    kv = reactive("")
    streaming = reactive(0)

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f" {self.engine} ", style="bold")
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
        if self.reply:
            t.append(" │ ", style="dim")
            t.append(self.reply)
        if self.kv:
            t.append(" │ ", style="dim")
            t.append(self.kv)
        return t
