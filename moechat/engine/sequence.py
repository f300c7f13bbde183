"""Sequence: one request's tokens, KV blocks and progress through the engine."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import torch

from moechat.engine.prefix_cache import Node
from moechat.engine.sampling import SamplingParams


class Status(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(eq=False)
class Sequence:
    id: int
    prompt: list[int]
    params: SamplingParams
    generator: torch.Generator | None = None
    output: list[int] = field(default_factory=list)
    status: Status = Status.WAITING
    blocks: list[int] = field(default_factory=list)  # block table: KV of token t is in blocks[t // block_size]
    nodes: list[Node] = field(default_factory=list)   # prefix-tree nodes of blocks[:len(nodes)] (ref'd)
    num_computed: int = 0      # tokens whose K/V are in the pool
    cached_tokens: int = 0     # prompt tokens served from the prefix cache (first admission)
    prefilled_tokens: int = 0  # prompt tokens run through the model (recomputes included)
    finish_reason: str | None = None
    error: str | None = None
    arrival: float = field(default_factory=time.perf_counter)
    first_token_time: float | None = None
    finish_time: float | None = None
    admitted: bool = False

    @property
    def tokens(self) -> list[int]:
        return self.prompt + self.output

    @property
    def length(self) -> int:
        return len(self.prompt) + len(self.output)

    @property
    def num_pending(self) -> int:
        """Tokens to run through the model before the next token can be sampled."""
        return self.length - self.num_computed

    @property
    def finished(self) -> bool:
        return self.status is Status.FINISHED
