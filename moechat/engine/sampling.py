"""SamplingParams and the batched sampler: greedy at temperature 0, else temperature, top-k and top-p.

All rows are sampled at once on the logits' device. The randomness of a row is a counter-based hash of
(request seed, token index, vocabulary id), so a seed gives the same tokens whatever else is in the batch,
and a preempted request that is recomputed draws the same numbers again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from moechat.engine.tokenizer import ENDOFTEXT, RETURN
from moechat.engine.transfer import to_device

DEFAULT_STOP_IDS = (ENDOFTEXT, RETURN)


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


def request_seed(params: SamplingParams) -> int:
    return params.seed if params.seed is not None else random.getrandbits(62)


_MASK64 = (1 << 64) - 1


def _signed(x: int) -> int:
    x &= _MASK64
    return x - (1 << 64) if x >> 63 else x


def _shr(x: torch.Tensor, n: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> sign-extends)."""
    return (x >> n) & ((1 << (64 - n)) - 1)


def uniform_noise(seeds: torch.Tensor, steps: torch.Tensor, vocab: int) -> torch.Tensor:
    """[N, vocab] uniforms in (0, 1) from splitmix64 of (seed, step, id); int64 arithmetic wraps."""
    ids = torch.arange(vocab, device=seeds.device, dtype=torch.int64)
    x = seeds[:, None] * _signed(0x9E3779B97F4A7C15) + steps[:, None] * _signed(0xD1B54A32D192ED03) + ids[None, :]
    x = (x ^ _shr(x, 30)) * _signed(0xBF58476D1CE4E5B9)
    x = (x ^ _shr(x, 27)) * _signed(0x94D049BB133111EB)
    x = x ^ _shr(x, 31)
    return (_shr(x, 40).float() + 0.5) * (1.0 / (1 << 24))


def sample(logits: torch.Tensor, params: list[SamplingParams], seeds: list[int], steps: list[int]) -> list[int]:
    """logits [N, V] float32, one row per request; steps = tokens the request has generated so far."""
    return sample_on_device(logits, params, seeds, steps).tolist()


def sample_on_device(logits: torch.Tensor, params: list[SamplingParams], seeds: list[int],
                     steps: list[int]) -> torch.Tensor:
    """Like sample, but the token ids stay on the logits' device (no host sync)."""
    out = torch.argmax(logits, dim=-1)
    rows = [i for i, p in enumerate(params) if not p.greedy]
    if rows:
        dev = logits.device
        # tensors, not lists (indexing by a list copies synchronously); one staging copy per dtype
        index, top_k, seed, step = to_device(
            rows + [params[i].top_k or logits.shape[-1] for i in rows] + [seeds[i] for i in rows]
            + [steps[i] for i in rows], torch.int64, dev).view(4, len(rows))
        temp, top_p = to_device([params[i].temperature for i in rows] + [params[i].top_p for i in rows],
                                torch.float32, dev).view(2, len(rows))
        sub = logits.index_select(0, index)
        probs = torch.softmax(sub / temp[:, None], dim=-1)
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        rank = torch.arange(probs.shape[-1], device=dev)[None, :]
        # keep the top-k, then the smallest prefix whose mass reaches top_p (the first token always stays)
        keep = (rank < top_k[:, None]) & ((sorted_probs.cumsum(-1) - sorted_probs) < top_p[:, None])
        noise = uniform_noise(seed, step, probs.shape[-1])
        # exponential race: argmax(p / E), E = -log U ~ Exp(1), draws token v with probability p_v
        race = torch.where(keep, sorted_probs / -torch.log(noise.gather(-1, order)), -1.0)
        out.index_copy_(0, index, order.gather(-1, race.argmax(-1, keepdim=True))[:, 0])
    return out
