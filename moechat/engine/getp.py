"""The getp batch format: first line N, then N prompt lines; output one line of token ids per request.

The output is written by moechat.files (checked first, then atomically).
"""

from __future__ import annotations

from dataclasses import dataclass

from moechat.engine.sampling import DEFAULT_STOP_IDS, SamplingParams
from moechat.errors import MoechatError

GETP_STOP_IDS = DEFAULT_STOP_IDS  # the C engine stopped on <|endoftext|> and <|return|>


def request_params(encoded: list[list[int]], max_positions: int) -> list[SamplingParams]:
    """getp's sampling per request: greedy, the C engine's stop tokens, at most max_positions positions."""
    return [SamplingParams(temperature=0.0, max_tokens=max_positions - len(ids), stop_token_ids=GETP_STOP_IDS)
            for ids in encoded]


def read_prompts(path: str) -> list[str]:
    """The prompts of a getp input file; MoechatError names the file and line of any problem."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise MoechatError(f"{path}: cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise MoechatError(f"{path}:{line}: invalid UTF-8") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if not lines:
        raise MoechatError(f"{path}:1: empty file; expected the number of prompts on the first line")
    try:
        n = int(lines[0].strip())
        if n < 0:
            raise ValueError
    except ValueError:
        raise MoechatError(f"{path}:1: expected the number of prompts, got {lines[0][:40]!r}") from None
    if len(lines) - 1 < n:
        raise MoechatError(f"{path}:{len(lines) + 1}: the first line announces {n} prompts but the file has {len(lines) - 1}")
    prompts = lines[1:n + 1]
    for i, p in enumerate(prompts):
        if not p.strip():
            raise MoechatError(f"{path}:{i + 2}: empty prompt (every request needs at least one token)")
    return prompts


def format_output(outputs: list[list[int]]) -> str:
    return "".join(" ".join(map(str, toks)) + "\n" for toks in outputs)


def read_reference(path: str) -> list[list[int]]:
    try:
        with open(path) as f:
            return [[int(t) for t in line.split()] for line in f.read().splitlines()]
    except OSError as e:
        raise MoechatError(f"{path}: cannot read: {e.strerror}") from None
    except ValueError:
        raise MoechatError(f"{path}: not a getp output file (expected token ids separated by spaces)") from None


@dataclass
class Verification:
    matched: int
    total: int
    mismatches: list[str]


def verify(outputs: list[list[int]], reference: list[list[int]]) -> Verification:
    mismatches = []
    for i, out in enumerate(outputs):
        ref = reference[i] if i < len(reference) else None
        if ref is None:
            mismatches.append(f"request {i}: missing from the reference")
        elif out != ref:
            at = next((k for k, (a, b) in enumerate(zip(out, ref)) if a != b), min(len(out), len(ref)))
            mismatches.append(f"request {i}: differs at token {at} (got {len(out)} tokens, reference {len(ref)})")
    return Verification(len(outputs) - len(mismatches), len(outputs), mismatches)
