"""Tensor parallelism's cut of the weights: the slice of each canonical tensor that rank r of N holds.

Attention: q heads [r*H/N, (r+1)*H/N), the kv heads those heads read (a GQA group never straddles two ranks),
their sinks, and the matching input columns of o_w. Experts: every rank holds every expert over a slice of the
intermediate dimension, cut in whole MXFP4 groups of 32 features: w1 rows 2j and 2j+1 are feature j's gate and
up, w2's packed groups run along its input dim. The MoE kernels run unchanged on the narrower experts, every rank
reads the same share of each routed expert whatever the routing picks, and shapes stay static (CUDA graphs).
o_w and w2 give partial sums that one all-reduce completes; their biases (o_b, w2_bias) are added once, by
rank 0, the other ranks hold zeros. Embedding, norms, router and unembedding are replicated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from moechat.engine.config import ModelConfig
from moechat.errors import MoechatError

Split = tuple[int, str]  # (dim, part): the ranges of `part` (see Shard.ranges) along dim

# how each canonical tensor (checkpoint.py's names, after "layers.{i}.") is cut; the rest is replicated
CANONICAL: dict[str, Split] = {
    "qkv_w": (0, "qkv"), "qkv_b": (0, "qkv"), "sinks": (0, "heads"), "o_w": (1, "q"), "o_b": (0, "rank0"),
    "w1_blocks": (1, "gate_up"), "w1_scales": (1, "gate_up"), "w1_bias": (1, "gate_up"), "w1": (1, "gate_up"),
    "w2_blocks": (2, "groups"), "w2_scales": (2, "groups"), "w2": (2, "features"), "w2_bias": (0, "rank0"),
}


def canonical_split(name: str) -> Split | None:
    return CANONICAL.get(name.rsplit(".", 1)[-1])


@dataclass(frozen=True)
class Shard:
    cfg: ModelConfig  # the whole model's
    rank: int
    world: int

    def __post_init__(self) -> None:
        c, n = self.cfg, self.world
        if c.num_kv_heads % n:
            raise MoechatError(f"--tensor-parallel {n}: the model's {c.num_kv_heads} kv heads do not split into {n} equal parts")
        if c.intermediate_size % 32 or c.intermediate_size // 32 < n:
            raise MoechatError(f"--tensor-parallel {n}: the experts' {c.intermediate_size} features do not split into "
                               f"{n} slices of whole 32-feature groups")

    def _even(self, n: int) -> tuple[int, int]:
        return self.rank * n // self.world, (self.rank + 1) * n // self.world

    def ranges(self, part: str) -> list[tuple[int, int]]:
        c, d = self.cfg, self.cfg.head_dim
        h0, h1 = self._even(c.num_heads)
        k0, k1 = self._even(c.num_kv_heads)
        g0, g1 = self._even(c.intermediate_size // 32)  # uneven when N does not divide the group count
        qd, kd = c.num_heads * d, c.num_kv_heads * d
        return {
            "q": [(h0 * d, h1 * d)], "kv": [(k0 * d, k1 * d)], "heads": [(h0, h1)],
            "qkv": [(h0 * d, h1 * d), (qd + k0 * d, qd + k1 * d), (qd + kd + k0 * d, qd + kd + k1 * d)],
            "groups": [(g0, g1)], "features": [(32 * g0, 32 * g1)], "gate_up": [(64 * g0, 64 * g1)],
        }[part]

    def take(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """This rank's piece of canonical tensor `name`, a copy, so the whole tensor can be freed."""
        split = canonical_split(name)
        if split is None:
            return x
        dim, part = split
        if part == "rank0":
            return x if self.rank == 0 else torch.zeros_like(x)
        return torch.cat([x.narrow(dim, a, b - a) for a, b in self.ranges(part)], dim)

    def read(self, f, name: str, split: Split | None) -> torch.Tensor:
        """This rank's piece of tensor `name` of an open safetensors file; only that slice is read."""
        if split is None:
            return f.get_tensor(name)
        dim, part = split
        if part == "rank0":
            x = f.get_tensor(name)
            return x if self.rank == 0 else torch.zeros_like(x)
        sl, lead = f.get_slice(name), (slice(None),) * dim
        return torch.cat([sl[lead + (slice(a, b),)] for a, b in self.ranges(part)], dim)

    def local_config(self) -> ModelConfig:
        """The shapes this rank holds: its heads, kv heads (the KV pool's width) and expert features."""
        c, n = self.cfg, self.world
        g0, g1 = self._even(c.intermediate_size // 32)
        return replace(c, num_heads=c.num_heads // n, num_kv_heads=c.num_kv_heads // n, intermediate_size=32 * (g1 - g0))
