"""SVG snapshots of the main screen (large and 80x24) and the settings screen.

Deterministic: fixed ids and dates, no timing numbers, and a stand-in engine that is ready at once with
fixed KV numbers (the screens' layout is what is checked here; the Pilot tests use the real engine).
Update with `pytest tests/test_tui_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

import threading

from tui_support import make_app

from moechat.tui.store import SessionSettings, Store


class ReadyEngine:
    def __init__(self) -> None:
        self.ready = threading.Event()
        self.ready.set()
        self.load_error = None

    def wait_ready(self, timeout=None) -> None:
        pass

    def stats(self) -> dict:
        return {"kv_blocks_used": 12, "kv_blocks_total": 1024}

    def shutdown(self, timeout=None) -> None:
        pass


def seeded(tmp_path):
    db = tmp_path / "chat.db"
    ids = iter(["c0ffee01", "c0ffee02", "c0ffee03"])
    days = iter(["2025-04-01T10:00:00+00:00", "2025-04-02T11:00:00+00:00", "2025-04-03T12:00:00+00:00"] + [
        "2025-04-03T12:00:00+00:00"] * 20)
    s = Store(db, clock=lambda: next(days), new_id=lambda: next(ids))
    a = s.create_session()
    s.add_message(a.id, "user", "What is a sliding window attention layer?")
    s.add_message(a.id, "assistant", "Each query sees only the last *W* keys.")
    b = s.create_session()
    s.add_message(b.id, "user", "Tell me a long story")
    s.add_message(b.id, "assistant", "Once upon a time, in a land of", status="stopped")
    c = s.create_session(settings=SessionSettings(instructions="Answer briefly.", reasoning="high", temperature=0.7))
    s.add_message(c.id, "user", "Write a Python function that adds two numbers")
    m = s.add_message(c.id, "assistant", "", status="streaming", reasoning="")
    s.update_message(
        m.id,
        content="Here it is:\n\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n\nCall `add(2, 3)` to get **5**.",
        reasoning="The user wants a tiny function. Keep it typed.",
        status="done",
        stats={"prompt_tokens": 90, "cached_tokens": 64, "generated_tokens": 40},
    )
    s.close()
    return db


def app_for(tmp_path):
    return make_app(seeded(tmp_path), worker=ReadyEngine(), ids=["d0000001"])


def test_main_screen(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path), terminal_size=(110, 32))


def test_main_screen_80x24(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path), terminal_size=(80, 24))


def test_settings_screen(snap_compare, tmp_path):
    assert snap_compare(app_for(tmp_path), press=["ctrl+o"], terminal_size=(100, 32))
