"""Chat sessions in SQLite: sessions, messages, per-session settings and full-text search (FTS5).

One connection, WAL, one transaction per change, schema version in `PRAGMA user_version`, file mode 0600.
A reply is written while it streams (status "streaming"); opening the store marks any reply left in that
state by a killed process as "stopped", so nothing that was shown is lost.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from moechat.errors import MoechatError

SCHEMA_VERSION = 1
REASONING_EFFORTS = ("low", "medium", "high")

_SCHEMA = """
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    reasoning    TEXT NOT NULL DEFAULT 'medium',
    temperature  REAL NOT NULL DEFAULT 1.0,
    top_p        REAL NOT NULL DEFAULT 1.0,
    max_tokens   INTEGER NOT NULL DEFAULT 2048,
    parent_id    TEXT,
    parent_seq   INTEGER
);
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content    TEXT NOT NULL DEFAULT '',
    reasoning  TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'done',
    error      TEXT,
    stats      TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (session_id, seq)
);
CREATE INDEX sessions_by_update ON sessions(updated_at);
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id');
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE VIRTUAL TABLE titles_fts USING fts5(session_id UNINDEXED, title);
CREATE TRIGGER sessions_ai AFTER INSERT ON sessions BEGIN
    INSERT INTO titles_fts(session_id, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER sessions_ad AFTER DELETE ON sessions BEGIN
    DELETE FROM titles_fts WHERE session_id = old.id;
END;
CREATE TRIGGER sessions_au AFTER UPDATE OF title ON sessions BEGIN
    DELETE FROM titles_fts WHERE session_id = old.id;
    INSERT INTO titles_fts(session_id, title) VALUES (new.id, new.title);
END;
"""


class StoreError(MoechatError):
    """The database can't be opened or read: corrupt, not a database, from a newer moechat, or unreadable."""

    def __init__(self, message: str, path: str):
        super().__init__(message)
        self.path = path


@dataclass
class Session:
    id: str
    title: str
    created_at: str
    updated_at: str
    instructions: str = ""
    reasoning: str = "medium"
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 2048
    parent_id: str | None = None
    parent_seq: int | None = None


@dataclass
class StoredMessage:
    id: int
    session_id: str
    seq: int
    role: str
    content: str
    reasoning: str = ""
    status: str = "done"
    error: str | None = None
    stats: dict | None = None
    created_at: str = ""


@dataclass
class SearchHit:
    session: Session
    snippet: str = ""  # matched words are between \x02 and \x03


@dataclass
class SessionSettings:
    instructions: str = ""
    reasoning: str = "medium"
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 2048

    def validate(self) -> None:
        if self.reasoning not in REASONING_EFFORTS:
            raise ValueError(f"reasoning effort must be one of {', '.join(REASONING_EFFORTS)}")
        if not 0 <= self.temperature <= 2:
            raise ValueError("temperature must be between 0 and 2")
        if not 0 < self.top_p <= 1:
            raise ValueError("top-p must be in (0, 1]")
        if not 1 <= self.max_tokens <= 131072:
            raise ValueError("max tokens must be between 1 and 131072")


_SETTING_FIELDS = ("instructions", "reasoning", "temperature", "top_p", "max_tokens")


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("moechat", appauthor=False)) / "moechat.db"


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def title_from(text: str, limit: int = 48) -> str:
    """A session title from its first message: the first non-empty line, cut at a word near `limit`."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.lstrip("#>*- ").replace("**", "").replace("`", "").split())
    if not line:
        return "New chat"
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    if len(cut) < limit // 2:
        cut = line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def fts_query(text: str) -> str | None:
    """User words to an FTS5 query: every word must appear, the last one as a prefix. None when empty."""
    words = [w for w in text.split() if w.strip('"')]
    if not words:
        return None
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    quoted[-1] += "*"
    return " AND ".join(quoted)


class Store:
    def __init__(self, path: str | os.PathLike, clock: Callable[[], str] = _now,
                 new_id: Callable[[], str] | None = None):
        self.path = str(path)
        self.clock = clock
        self.id_factory = new_id or (lambda: secrets.token_hex(4))
        self.conn = self._open()

    # --- opening -----------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        path = self.path
        if path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(parent, mode=0o700, exist_ok=True)
                if not os.path.exists(path):
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                else:
                    mode = os.stat(path).st_mode & 0o777
                    if mode & 0o077 and os.access(path, os.W_OK):
                        os.chmod(path, 0o600)
            except OSError as e:
                raise StoreError(f"can't open the chat database {path}: {e.strerror or e}", path) from e
            if not os.access(path, os.R_OK | os.W_OK):
                raise StoreError(f"can't read and write the chat database {path}: permission denied", path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(f"can't open the chat database {path}: {e}", path) from e
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            if version == 0:
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise StoreError(f"{path} is an SQLite database but not a moechat one", path)
                conn.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
            elif version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path} was written by a newer moechat (schema {version}, this one knows {SCHEMA_VERSION})", path
                )
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise StoreError(f"the chat database {path} is corrupt ({ok})", path)
            with _tx(conn):
                conn.execute("UPDATE messages SET status = 'stopped' WHERE status = 'streaming'")
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as e:
            conn.close()
            raise StoreError(f"the chat database {path} can't be read: {e}", path) from e
        return conn

    def close(self) -> None:
        self.conn.close()

    # --- sessions ----------------------------------------------------------------------------------
    def create_session(self, title: str = "New chat", settings: SessionSettings | None = None) -> Session:
        s = settings or SessionSettings()
        s.validate()
        now = self.clock()
        with _tx(self.conn):
            sid = self._insert_session(title, now, now, s)
        return self.get_session(sid)

    def _insert_session(self, title: str, created_at: str, updated_at: str, s: SessionSettings,
                        parent_id: str | None = None, parent_seq: int | None = None) -> str:
        """A new sessions row (inside the caller's transaction); its id."""
        sid = self._new_id()
        self.conn.execute(
            "INSERT INTO sessions (id, title, created_at, updated_at, instructions, reasoning, temperature,"
            " top_p, max_tokens, parent_id, parent_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, title, created_at, updated_at, s.instructions, s.reasoning, s.temperature, s.top_p, s.max_tokens,
             parent_id, parent_seq),
        )
        return sid

    def _new_id(self) -> str:
        while True:
            sid = self.id_factory()
            if not self.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone():
                return sid

    def get_session(self, session_id: str) -> Session:
        row = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise MoechatError(f"no session {session_id!r}")
        return Session(**dict(row))

    def find_session(self, prefix: str) -> Session:
        """A session by its id or a unique prefix of it (for the CLI)."""
        rows = self.conn.execute(
            "SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
            (prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",),
        ).fetchall()
        if not rows:
            raise MoechatError(f"no session {prefix!r} (`moechat sessions` lists them)")
        if len(rows) > 1 and rows[0]["id"] != prefix:
            raise MoechatError(f"session id {prefix!r} is ambiguous; give more of it")
        return self.get_session(rows[0]["id"])

    def list_sessions(self) -> list[Session]:
        rows = self.conn.execute("SELECT * FROM sessions ORDER BY updated_at DESC, rowid DESC").fetchall()
        return [Session(**dict(r)) for r in rows]

    def rename_session(self, session_id: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise ValueError("a title can't be empty")
        with _tx(self.conn):
            self.conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))

    def delete_session(self, session_id: str) -> None:
        with _tx(self.conn):
            self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def session_settings(self, session_id: str) -> SessionSettings:
        return _settings_of(self.get_session(session_id))

    def update_settings(self, session_id: str, settings: SessionSettings) -> None:
        settings.validate()
        with _tx(self.conn):
            self.conn.execute(
                "UPDATE sessions SET instructions = ?, reasoning = ?, temperature = ?, top_p = ?, max_tokens = ?"
                " WHERE id = ?",
                (settings.instructions, settings.reasoning, settings.temperature, settings.top_p,
                 settings.max_tokens, session_id),
            )

    def branch_session(self, session_id: str, upto_seq: int) -> Session:
        """A new session holding copies of `session_id`'s messages up to and including `upto_seq`."""
        src = self.get_session(session_id)
        now = self.clock()
        with _tx(self.conn):
            sid = self._insert_session(_branch_title(src.title), src.created_at, now, _settings_of(src),
                                       src.id, upto_seq)
            self.conn.execute(
                "INSERT INTO messages (session_id, seq, role, content, reasoning, status, error, stats, created_at)"
                " SELECT ?, seq, role, content, reasoning, status, error, stats, created_at FROM messages"
                " WHERE session_id = ? AND seq <= ? ORDER BY seq",
                (sid, session_id, upto_seq),
            )
        return self.get_session(sid)

    # --- messages ----------------------------------------------------------------------------------
    def messages(self, session_id: str) -> list[StoredMessage]:
        rows = self.conn.execute(
            "SELECT * FROM messages WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [_message(r) for r in rows]

    def get_message(self, message_id: int) -> StoredMessage:
        row = self.conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise MoechatError(f"no message {message_id}")
        return _message(row)

    def add_message(self, session_id: str, role: str, content: str, status: str = "done",
                    reasoning: str = "") -> StoredMessage:
        now = self.clock()
        with _tx(self.conn):
            seq = self.conn.execute(
                "SELECT coalesce(max(seq), -1) + 1 FROM messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            cur = self.conn.execute(
                "INSERT INTO messages (session_id, seq, role, content, reasoning, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, seq, role, content, reasoning, status, now),
            )
            self.conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))
            if role == "user" and seq == 0:
                self.conn.execute(
                    "UPDATE sessions SET title = ? WHERE id = ? AND title = 'New chat'", (title_from(content), session_id)
                )
        return self.get_message(cur.lastrowid)

    def update_message(self, message_id: int, *, content: str | None = None, reasoning: str | None = None,
                       status: str | None = None, error: str | None = None, stats: dict | None = None) -> None:
        sets, args = [], []
        for name, value in (("content", content), ("reasoning", reasoning), ("status", status), ("error", error)):
            if value is not None:
                sets.append(f"{name} = ?")
                args.append(value)
        if stats is not None:
            sets.append("stats = ?")
            args.append(json.dumps(stats))
        if not sets:
            return
        with _tx(self.conn):
            self.conn.execute(f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", (*args, message_id))

    def delete_messages_from(self, session_id: str, seq: int) -> None:
        """Delete the message at `seq` and every later one (regenerate, edit and resend)."""
        with _tx(self.conn):
            self.conn.execute("DELETE FROM messages WHERE session_id = ? AND seq >= ?", (session_id, seq))

    # --- search ------------------------------------------------------------------------------------
    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Sessions whose title or any message contains every word of `text` (the last one as a prefix)."""
        q = fts_query(text)
        if q is None:
            return [SearchHit(s) for s in self.list_sessions()]
        try:
            rows = self.conn.execute(
                """
                SELECT session_id, snippet FROM (
                    SELECT m.session_id AS session_id,
                           snippet(messages_fts, 0, char(2), char(3), '…', 8) AS snippet, rank
                    FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                    WHERE messages_fts MATCH ?
                    UNION ALL
                    SELECT session_id, title AS snippet, rank - 1000 AS rank
                    FROM titles_fts WHERE titles_fts MATCH ?
                ) ORDER BY rank
                """,
                (q, q),
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        seen: dict[str, str] = {}
        for r in rows:
            seen.setdefault(r["session_id"], r["snippet"])
        top = list(seen.items())[:limit]
        if not top:
            return []
        # the hits' sessions in one query, not one per hit (search runs on every keystroke)
        marks = ", ".join("?" * len(top))
        sessions = {r["id"]: Session(**dict(r)) for r in
                    self.conn.execute(f"SELECT * FROM sessions WHERE id IN ({marks})", [sid for sid, _ in top])}
        return [SearchHit(sessions[sid], " ".join(snip.split())) for sid, snip in top]


def _settings_of(s: Session) -> SessionSettings:
    return SessionSettings(**{k: getattr(s, k) for k in _SETTING_FIELDS})


def _branch_title(title: str) -> str:
    return title if title.startswith("⑂ ") else f"⑂ {title}"


def _message(row: sqlite3.Row) -> StoredMessage:
    d = dict(row)
    d["stats"] = json.loads(d["stats"]) if d["stats"] else None
    return StoredMessage(**d)


@contextmanager
def _tx(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def start_fresh(path: str) -> str:
    """Move an unreadable database aside (never deleting it) so a new one can be made at `path`.

    Returns where the old file now lives.
    """
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = f"{path}.broken-{stamp}"
    n = 1
    while os.path.exists(kept):
        kept = f"{path}.broken-{stamp}-{n}"
        n += 1
    os.replace(path, kept)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, kept + suffix)
    return kept


__all__ = [
    "SearchHit", "Session", "SessionSettings", "Store", "StoreError", "StoredMessage", "default_db_path",
    "fts_query", "start_fresh", "title_from",
]
