"""The harmony chat format: render conversations to tokens, parse streamed output into channels.

Earlier turns keep only their final answer, closed with <|end|>, so turn N's prompt extends turn N-1's
prompt up to the start of the last answer and the prefix cache serves it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from moechat.engine.tokenizer import (
    CALL,
    CHANNEL,
    END,
    ENDOFTEXT,
    MESSAGE,
    RETURN,
    START,
    IncrementalDetokenizer,
    Tokenizer,
)

REASONING_EFFORTS = ("low", "medium", "high")
CHAT_STOP_IDS = (RETURN, CALL, ENDOFTEXT)
MAX_HEADER_TOKENS = 32  # a role/channel/recipient header is a few tokens; past this the output is not harmony


@dataclass
class Message:
    role: str  # "user" or "assistant"
    content: str


@dataclass
class Conversation:
    messages: list[Message]
    instructions: str = ""  # developer instructions (--system)
    reasoning: str = "medium"
    date: str = field(default_factory=lambda: datetime.date.today().isoformat())


def system_text(reasoning: str, date: str) -> str:
    return (
        "You are ChatGPT, a large language model trained by OpenAI.\n"
        "Knowledge cutoff: 2024-06\n"
        f"Current date: {date}\n\n"
        f"Reasoning: {reasoning}\n\n"
        "# Valid channels: analysis, commentary, final. Channel must be included for every message."
    )


def render_prompt(tok: Tokenizer, conv: Conversation) -> list[int]:
    """Token ids of the conversation followed by `<|start|>assistant`, ready for the model to answer."""
    if conv.reasoning not in REASONING_EFFORTS:
        raise ValueError(f"reasoning effort must be one of {', '.join(REASONING_EFFORTS)}")
    ids: list[int] = []

    def message(header: str, text: str, close: int = END) -> None:
        ids.append(START)
        ids.extend(tok.encode(header))
        ids.append(MESSAGE)
        ids.extend(tok.encode(text))  # user text is always plain text, never control tokens
        ids.append(close)

    message("system", system_text(conv.reasoning, conv.date))
    if conv.instructions:
        message("developer", f"# Instructions\n\n{conv.instructions}")
    for m in conv.messages:
        if m.role == "user":
            message("user", m.content)
        elif m.role == "assistant":
            ids.append(START)
            ids.extend(tok.encode("assistant"))
            ids.append(CHANNEL)
            ids.extend(tok.encode("final"))
            ids.append(MESSAGE)
            ids.extend(tok.encode(m.content))
            ids.append(END)
        else:
            raise ValueError(f"unknown role {m.role!r}")
    ids.append(START)
    ids.extend(tok.encode("assistant"))
    return ids


@dataclass
class ChannelText:
    channel: str  # "analysis", "commentary" or "final"
    text: str


class HarmonyStreamParser:
    """Follows the assistant's output token by token and says which channel each piece of text is in.

    Starts right after `<|start|>assistant`, in a message header.
    """

    def __init__(self, tok: Tokenizer):
        self.tok = tok
        self.state = "header"
        self.header = IncrementalDetokenizer(tok)
        self.header_text = ""
        self.header_tokens = 0
        self.channel = "final"
        self.body = IncrementalDetokenizer(tok)

    def push(self, token: int) -> list[ChannelText]:
        out: list[ChannelText] = []
        if token == START:
            self._close(out)
            self.state, self.header_text, self.header_tokens = "header", "", 0
        elif token == MESSAGE and self.state == "header":
            self.header_text += self.header.flush()
            self.channel = _channel_of(self.header_text)
            self.state = "body"
        elif token in (END, RETURN, CALL):
            self._close(out)
            self.state = "between"
        elif self.state == "header":
            self.header_text += self.header.push(token)
            self.header_tokens += 1
            if self.header_tokens > MAX_HEADER_TOKENS:
                # no real header is this long: the model is not following the format, so show what it
                # wrote as the answer rather than swallow it
                self.state, self.channel = "body", "final"
                text = self.header_text + self.header.flush()
                if text:
                    out.append(ChannelText("final", text))
        elif self.state == "body":
            text = self.body.push(token)
            if text:
                out.append(ChannelText(self.channel, text))
        return out

    def finish(self) -> list[ChannelText]:
        out: list[ChannelText] = []
        self._close(out)
        return out

    def _close(self, out: list[ChannelText]) -> None:
        if self.state == "body":
            text = self.body.flush()
            if text:
                out.append(ChannelText(self.channel, text))
        self.state = "between"


def _channel_of(header: str) -> str:
    """The channel named after <|channel|> in a message header (e.g. "analysis", "commentary to=functions.x")."""
    name = header.partition("<|channel|>")[2].strip()
    return next((known for known in ("analysis", "commentary", "final") if name.startswith(known)), "final")
