"""The bridge from stored sessions to engine requests: a session's messages and settings become a
harmony Conversation and SamplingParams. Engine modules (and so torch) are imported only when a request
is made, so importing the TUI stays light."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from moechat.tui.store import Session, StoredMessage

# Channels that go into the reasoning block; everything else (final, or None for raw completions) is the answer.
REASONING_CHANNELS = ("analysis", "commentary")

FINISH_STATUS = {"stop": "done", "length": "length", "cancelled": "stopped", "error": "error"}


def conversation_for(session: Session, messages: list[StoredMessage]) -> Any:
    """The harmony conversation for the next answer: earlier answers without their reasoning.

    The date is the session's creation date, so a session's prompt stays the same from day to day and its
    cached prefix keeps serving it.
    """
    from moechat.engine.harmony import Conversation, Message

    msgs = []
    for m in messages:
        if m.role == "assistant" and not m.content:
            continue  # an answer that failed or was stopped before any text: nothing to show the model
        msgs.append(Message(m.role, m.content))
    return Conversation(msgs, instructions=session.instructions, reasoning=session.reasoning,
                        date=session.created_at[:10])


def params_for(session: Session) -> Any:
    from moechat.engine.sampling import SamplingParams

    return SamplingParams(temperature=session.temperature, top_p=session.top_p, max_tokens=session.max_tokens)


def finish_stats(finish: Any) -> dict:
    d = asdict(finish)
    d.pop("error", None)
    d.pop("reason", None)
    return d


@dataclass
class Reply:
    """One answer being generated: what has arrived so far, and the view showing it (None when the user
    is looking at another session)."""

    session_id: str
    message_id: int
    handle: Any = None
    view: Any = None
    answer: str = ""
    reasoning: str = ""
    pending_answer: str = ""  # arrived but not yet saved and shown
    pending_reasoning: str = ""
    tokens: int = 0
    stop_requested: bool = False

    def cancel(self) -> None:
        self.stop_requested = True
        if self.handle is not None:
            self.handle.cancel()
