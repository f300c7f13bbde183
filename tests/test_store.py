"""The chat store: SQLite schema, FTS5 search, branching, crash recovery, bad files."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from moechat.tui.store import (
    SCHEMA_VERSION,
    SessionSettings,
    Store,
    StoreError,
    fts_query,
    start_fresh,
    title_from,
)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "chat.db", clock=lambda: "2025-01-02T03:04:05+00:00")
    yield s
    s.close()


def test_new_file_is_private_versioned_and_wal(tmp_path):
    path = tmp_path / "sub" / "chat.db"
    s = Store(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert s.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()


def test_title_comes_from_first_message(store):
    s = store.create_session()
    store.add_message(s.id, "user", "\n\n  How do **MoE** routers pick experts? And why top-4 rather than top-2 here")
    store.add_message(s.id, "assistant", "They take the top-k logits.")
    store.add_message(s.id, "user", "another question")
    title = store.get_session(s.id).title
    assert title.startswith("How do MoE routers pick experts?")
    assert title.endswith("…") and len(title) <= 49
    assert title_from("") == "New chat"


def test_search_titles_and_messages_with_prefix(store):
    a = store.create_session()
    store.add_message(a.id, "user", "tell me about the tides")
    store.add_message(a.id, "assistant", "The moon pulls the oceans; see Zanzibar's harbour for big ones.")
    b = store.create_session()
    store.add_message(b.id, "user", "zebra facts")
    assert [h.session.id for h in store.search("zanzi")] == [a.id]
    assert "Zanzibar" in store.search("zanzibar")[0].snippet
    assert [h.session.id for h in store.search("zebra")] == [b.id]
    assert store.search("moon oceans")[0].session.id == a.id
    assert store.search("moon zebra") == []
    assert len(store.search("")) == 2
    assert isinstance(store.search('"*) OR (:'), list)  # odd input never raises
    assert fts_query('a "b') == '"a" AND """b"*'


def test_rename_updates_search_and_delete_cascades(store):
    s = store.create_session()
    store.add_message(s.id, "user", "hello")
    store.rename_session(s.id, "  Quantum   knitting ")
    assert store.get_session(s.id).title == "Quantum knitting"
    assert store.search("knit")[0].session.id == s.id
    store.delete_session(s.id)
    assert store.list_sessions() == []
    assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert store.search("hello") == [] and store.search("knit") == []


def test_branch_copies_history_up_to_a_message(store):
    s = store.create_session(settings=SessionSettings(instructions="be brief", reasoning="high", temperature=0.3))
    for i, role in enumerate(["user", "assistant", "user", "assistant"]):
        store.add_message(s.id, role, f"m{i}")
    b = store.branch_session(s.id, 1)
    assert [m.content for m in store.messages(b.id)] == ["m0", "m1"]
    assert b.parent_id == s.id and b.parent_seq == 1 and b.title.startswith("⑂ ")
    assert store.session_settings(b.id) == store.session_settings(s.id)
    assert b.created_at == s.created_at  # same date in the system prompt, so the same cached prefix
    assert len(store.messages(s.id)) == 4


def test_streaming_reply_survives_a_kill(tmp_path):
    path = tmp_path / "chat.db"
    s = Store(path)
    sess = s.create_session()
    s.add_message(sess.id, "user", "q")
    a = s.add_message(sess.id, "assistant", "", status="streaming")
    s.update_message(a.id, content="partial answ", reasoning="thinking")
    del s  # no close, no final status: as if the process died
    again = Store(path)
    m = again.messages(sess.id)[-1]
    assert (m.content, m.reasoning, m.status) == ("partial answ", "thinking", "stopped")


def test_settings_validation(store):
    s = store.create_session()
    with pytest.raises(ValueError):
        store.update_settings(s.id, SessionSettings(top_p=0))
    with pytest.raises(ValueError):
        store.update_settings(s.id, SessionSettings(reasoning="extreme"))
    store.update_settings(s.id, SessionSettings("x", "low", 0.0, 0.5, 7))
    assert store.session_settings(s.id) == SessionSettings("x", "low", 0.0, 0.5, 7)


def test_corrupt_and_foreign_files_get_clear_errors(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="can't be read"):
        Store(bad)
    kept = start_fresh(str(bad))
    assert os.path.exists(kept) and open(kept, "rb").read().startswith(b"this is not sqlite")
    Store(bad).close()  # a fresh one where the old one was

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(StoreError, match="not a moechat one"):
        Store(other)

    newer = tmp_path / "newer.db"
    Store(newer).close()
    c = sqlite3.connect(newer)
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    c.commit()
    c.close()
    with pytest.raises(StoreError, match="newer moechat"):
        Store(newer)


def test_find_session_by_prefix(tmp_path):
    ids = iter(["abc12345", "abd99999"])
    s = Store(tmp_path / "c.db", new_id=lambda: next(ids))
    s.create_session()
    s.create_session()
    assert s.find_session("abc").id == "abc12345"
    with pytest.raises(Exception, match="ambiguous"):
        s.find_session("ab")
    with pytest.raises(Exception, match="no session"):
        s.find_session("zzz")
