"""Export (Markdown, JSON) and the `moechat export` / `moechat sessions` commands."""

from __future__ import annotations

import json

import pytest

from moechat.errors import MoechatError
from moechat.tui.commands import export_command, sessions_command
from moechat.tui.export import to_json, to_markdown
from moechat.tui.store import SessionSettings, Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "chat.db"
    ids = iter(["feed0001", "feed0002"])
    s = Store(path, clock=lambda: "2025-03-04T05:06:07+00:00", new_id=lambda: next(ids))
    a = s.create_session(settings=SessionSettings(instructions="Be terse.", reasoning="low", temperature=0.2))
    s.add_message(a.id, "user", "Show me a Python loop")
    m = s.add_message(a.id, "assistant", "", status="streaming")
    s.update_message(m.id, content="```python\nfor i in range(3):\n    print(i)\n```", reasoning="Simple request.",
                     status="done", stats={"prompt_tokens": 90, "cached_tokens": 64, "generated_tokens": 20})
    s.add_message(a.id, "user", "And a while loop?")
    m2 = s.add_message(a.id, "assistant", "", status="streaming")
    s.update_message(m2.id, content="while True:", status="stopped")
    b = s.create_session()
    s.add_message(b.id, "user", "hi")
    s.close()
    return path


def test_markdown_export(db):
    s = Store(db)
    md = to_markdown(s.get_session("feed0001"), s.messages("feed0001"))
    assert md.startswith("# Show me a Python loop\n")
    assert "## Instructions\n\nBe terse." in md
    assert "## User\n\nShow me a Python loop" in md
    assert "<details><summary>Reasoning</summary>\n\nSimple request.\n\n</details>" in md
    assert "```python\nfor i in range(3):\n    print(i)\n```" in md
    assert "## Assistant (stopped)\n\nwhile True:" in md


def test_json_export_round_trips(db):
    s = Store(db)
    doc = json.loads(to_json(s.get_session("feed0001"), s.messages("feed0001")))
    assert doc["format"] == "moechat-session" and doc["version"] == 1
    assert doc["session"]["settings"] == {"instructions": "Be terse.", "reasoning": "low", "temperature": 0.2,
                                          "top_p": 1.0, "max_tokens": 2048}
    roles = [(m["role"], m["status"]) for m in doc["messages"]]
    assert roles == [("user", "done"), ("assistant", "done"), ("user", "done"), ("assistant", "stopped")]
    assert doc["messages"][1]["reasoning"] == "Simple request."
    assert doc["messages"][1]["stats"]["cached_tokens"] == 64


def test_export_command_to_file_and_stdout(db, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert export_command("feed0001", "json", str(out), str(db)) == 0
    assert json.loads(out.read_text())["session"]["id"] == "feed0001"
    assert export_command("feed0002", "md", None, str(db)) == 0
    assert capsys.readouterr().out.startswith("# hi\n")
    with pytest.raises(MoechatError, match="no session"):
        export_command("nope", "md", None, str(db))
    with pytest.raises(MoechatError, match="format"):
        export_command("feed0001", "html", None, str(db))
    with pytest.raises(MoechatError, match="cannot write"):  # one line for the CLI, not a traceback
        export_command("feed0001", "json", str(tmp_path / "no" / "out.json"), str(db))
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]  # no temporary file left


def test_sessions_command_lists_sessions(db, tmp_path, capsys):
    assert sessions_command(str(db)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "UPDATED", "MSGS", "TITLE"]
    rows = {line.split()[0]: line for line in out[1:]}
    assert set(rows) == {"feed0001", "feed0002"}
    assert rows["feed0001"].rstrip().endswith("4  Show me a Python loop")
    assert sessions_command(str(tmp_path / "missing.db")) == 0


def test_cli_wiring(db, capsys):
    from moechat.cli import main

    assert main(["sessions", "--db", str(db)]) == 0
    assert "feed0001" in capsys.readouterr().out
    assert main(["export", "feed0001", "--format", "md", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("# Show me a Python loop")
