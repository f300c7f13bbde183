"""SamplingParams and the sampler: greedy at temperature 0, else temperature, top-k and top-p.

Each request draws from its own generator, so a seed gives the same tokens whatever else is in the batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

DEFAULT_STOP_IDS = (199999, 200002)  # <|endoftext|>, <|return|>


@dataclass
class SamplingParams:
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0  # 0: no top-k cut
    seed: int | None = None
    max_tokens: int = 256
    stop_token_ids: tuple[int, ...] = DEFAULT_STOP_IDS

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if self.top_k < 0:
            raise ValueError("top_k must be >= 0")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def make_generator(params: SamplingParams, device: torch.device) -> torch.Generator | None:
    if params.greedy:
        return None
    g = torch.Generator(device=device)
    g.manual_seed(params.seed if params.seed is not None else random.getrandbits(63))
    return g


def filter_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """[V] float32 logits -> probabilities after temperature, top-k and top-p."""
    logits = logits / params.temperature
    if params.top_k and params.top_k < logits.shape[-1]:
        kth = torch.topk(logits, params.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # keep the smallest prefix whose mass reaches top_p (the first token always stays)
        drop = (sorted_probs.cumsum(-1) - sorted_probs) >= params.top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return probs


def sample(logits: torch.Tensor, params: list[SamplingParams], generators: list[torch.Generator | None]) -> list[int]:
    """logits [N, V] float32, one row per request -> one token id per row."""
    out = torch.argmax(logits, dim=-1)
    for row, (p, g) in enumerate(zip(params, generators)):
        if p.greedy:
            continue
        probs = filter_logits(logits[row], p)
        # exponential race: argmax(p / E) with E ~ Exp(1) draws from p, using only this request's generator
        noise = torch.empty_like(probs).exponential_(generator=g)
        out[row] = torch.argmax(probs / noise)
    return out.tolist()
