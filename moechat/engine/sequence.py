"""Sequence: one request's tokens, KV blocks and progress through the engine."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

from moechat.engine.prefix_cache import Node
from moechat.engine.sampling import SamplingParams


class Status(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(eq=False)
class Sequence:
    id: int
    tokens: list[int]  # prompt, then every generated token
    params: SamplingParams
    seed: int = 0  # sampling noise of token t is a hash of (seed, t)
    num_prompt: int = field(init=False)
    status: Status = Status.WAITING
    blocks: list[int] = field(default_factory=list)  # block table: K/V of token t is in blocks[t // block_size]
    # sliding layers' block table (their own pool): None where the window has moved past the block
    swa_blocks: list[int | None] = field(default_factory=list)
    swa_trimmed: int = 0       # swa_blocks[:swa_trimmed] are trimmed
    nodes: list[Node] = field(default_factory=list)   # prefix-tree nodes of blocks[:len(nodes)] (ref'd)
    num_computed: int = 0      # tokens whose K/V are in the pool
    cached_tokens: int = 0     # prompt tokens served from the prefix cache (first admission)
    finish_reason: str | None = None
    error: str | None = None
    arrival: float = field(default_factory=time.perf_counter)
    first_token_time: float | None = None
    finish_time: float | None = None
    admitted: bool = False

    def __post_init__(self) -> None:
        self.num_prompt = len(self.tokens)

    @property
    def num_output(self) -> int:
        return len(self.tokens) - self.num_prompt

    @property
    def length(self) -> int:
        return len(self.tokens)

    @property
    def num_pending(self) -> int:
        """Tokens to run through the model before the next token can be sampled."""
        return self.length - self.num_computed

    @property
    def finished(self) -> bool:
        return self.status is Status.FINISHED
