"""What `moechat` (the app), `moechat export` and `moechat sessions` run. No textual import at module level:
the headless commands must stay light."""

from __future__ import annotations

import os
import sys

from moechat.errors import MoechatError
from moechat.files import write_atomic


def _db(db_path: str | None) -> str:
    if db_path:
        return os.path.expanduser(db_path)
    from moechat.tui.store import default_db_path

    return str(default_db_path())


def run_app(model: str | None, device: str | None, dtype: str | None, kv_cache_gb: float | None,
            db_path: str | None, tensor_parallel: int | None = None) -> int:
    from moechat.tui import config

    choice = config.resolve(model, device, dtype, kv_cache_gb, tensor_parallel=tensor_parallel)
    from moechat.tui.app import MoechatApp  # textual is imported here, and only here

    app = MoechatApp(choice, _db(db_path))
    rc = app.run()
    return rc if isinstance(rc, int) else (app.return_code or 0)


def export_command(session_id: str, fmt: str, out: str | None, db_path: str | None) -> int:
    from moechat.tui.export import render
    from moechat.tui.store import Store

    if fmt not in ("md", "markdown", "json"):
        raise MoechatError(f"--format {fmt}: choose md or json")
    path = _db(db_path)
    if not os.path.exists(path):
        raise MoechatError(f"no chat database at {path}")
    store = Store(path)
    try:
        session = store.find_session(session_id)
        text = render(session, store.messages(session.id), fmt)
    finally:
        store.close()
    if out is None or out == "-":
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def sessions_command(db_path: str | None) -> int:
    from moechat.tui.store import Store

    path = _db(db_path)
    if not os.path.exists(path):
        print(f"no chats yet ({path} does not exist)", file=sys.stderr)
        return 0
    store = Store(path)
    try:
        sessions = store.list_sessions()
        counts = dict(store.conn.execute("SELECT session_id, count(*) FROM messages GROUP BY session_id").fetchall())
    finally:
        store.close()
    if not sessions:
        print("no chats yet", file=sys.stderr)
        return 0
    print(f"{'ID':<8}  {'UPDATED':<16}  {'MSGS':>4}  TITLE")
    for s in sessions:
        print(f"{s.id:<8}  {s.updated_at[:16].replace('T', ' '):<16}  {counts.get(s.id, 0):>4}  {s.title}")
    return 0
