"""A session as Markdown or JSON: what `moechat export` and the app's export command write."""

from __future__ import annotations

import json

from moechat.tui.store import Session, StoredMessage

EXPORT_FORMAT_VERSION = 1


def to_json(session: Session, messages: list[StoredMessage]) -> str:
    doc = {
        "format": "moechat-session",
        "version": EXPORT_FORMAT_VERSION,
        "session": {
            "id": session.id,
            "title": session.title,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "branched_from": ({"session_id": session.parent_id, "seq": session.parent_seq}
                              if session.parent_id else None),
            "settings": {
                "instructions": session.instructions,
                "reasoning": session.reasoning,
                "temperature": session.temperature,
                "top_p": session.top_p,
                "max_tokens": session.max_tokens,
            },
        },
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                **({"reasoning": m.reasoning} if m.reasoning else {}),
                "status": m.status,
                **({"error": m.error} if m.error else {}),
                **({"stats": m.stats} if m.stats else {}),
                "created_at": m.created_at,
            }
            for m in messages
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_markdown(session: Session, messages: list[StoredMessage]) -> str:
    out = [f"# {session.title}", ""]
    meta = [f"session `{session.id}`", f"created {session.created_at}", f"reasoning {session.reasoning}",
            f"temperature {session.temperature:g}", f"top-p {session.top_p:g}"]
    out += ["*" + " · ".join(meta) + "*", ""]
    if session.instructions:
        out += ["## Instructions", "", session.instructions.rstrip(), ""]
    for m in messages:
        heading = "User" if m.role == "user" else "Assistant"
        if m.status in ("stopped", "length", "error"):
            heading += f" ({'cut at max tokens' if m.status == 'length' else m.status})"
        out += [f"## {heading}", ""]
        if m.reasoning:
            out += ["<details><summary>Reasoning</summary>", "", m.reasoning.rstrip(), "", "</details>", ""]
        if m.content:
            out += [m.content.rstrip(), ""]
        if m.error:
            out += [f"> error: {m.error}", ""]
    return "\n".join(out).rstrip() + "\n"


def render(session: Session, messages: list[StoredMessage], fmt: str) -> str:
    if fmt in ("md", "markdown"):
        return to_markdown(session, messages)
    if fmt == "json":
        return to_json(session, messages)
    raise ValueError(f"unknown export format {fmt!r} (md or json)")
