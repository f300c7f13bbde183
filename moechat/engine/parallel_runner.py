"""Tensor parallelism's steps: rank 0's runner and decode graphs send each step's model inputs to the other ranks
before running it, and `run_received` runs such a step on another rank through the same model or graph code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from moechat.engine.cuda_graphs import DecodeGraphs
from moechat.engine.distributed import TPGroup
from moechat.engine.model import StepBatch
from moechat.engine.model_runner import ModelRunner
from moechat.engine.scheduler import ScheduledChunk
from moechat.kernels.attention import AttentionBatch

if TYPE_CHECKING:
    from moechat.engine.llm_engine import LLMEngine

EAGER, GRAPH = 1, 2  # message kinds: a forward on prepared tensors; a decode-graph replay on host lists


def _ints(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.int64)


def _batch_arrays(b: AttentionBatch) -> list[torch.Tensor]:
    return [b.query_start, b.context_lens, b.block_tables, b.slot_mapping, _ints([b.max_query_len])]


def _batch(a: list[torch.Tensor], device: torch.device) -> AttentionBatch:
    query_start, context_lens, tables, slots, max_query_len = a
    return AttentionBatch(query_start.to(device, torch.int32), context_lens.to(device, torch.int32),
                          tables.to(device, torch.int32), slots.to(device), query_start.tolist(), context_lens.tolist(),
                          int(max_query_len[0]))


class LeadRunner(ModelRunner):
    """Rank 0's runner: an eager step's inputs go to the other ranks before its forward."""

    def __init__(self, group: TPGroup, *args):
        super().__init__(*args)
        self.group = group

    def prepare(self, chunks: list[ScheduledChunk], device_tokens: torch.Tensor | None = None):
        tokens, positions, step, rows = super().prepare(chunks, device_tokens)  # never run ahead (see LLMEngine)
        swa = _batch_arrays(step.swa) if step.swa else []
        self.group.send(EAGER, [tokens, positions, rows, *_batch_arrays(step.full), *swa])
        return tokens, positions, step, rows


class LeadGraphs(DecodeGraphs):
    """Rank 0's decode graphs: a replay's inputs go to the other ranks, which replay their own graph."""

    def __init__(self, group: TPGroup, *args):
        super().__init__(*args)
        self.group = group

    def run(self, tokens, positions, slots, tables, swa):
        more = [_ints(swa[0]), _ints(swa[1])] if swa else []
        self.group.send(GRAPH, [_ints(tokens), _ints(positions), _ints(slots), _ints(tables), *more])
        return super().run(tokens, positions, slots, tables, swa)


def run_received(engine: LLMEngine, kind: int, a: list[torch.Tensor]) -> None:
    """Another rank's part of a step rank 0 sent (its logits are not needed: rank 0 samples)."""
    if kind == GRAPH:
        swa = (a[4].tolist(), a[5].tolist()) if len(a) > 4 else None
        engine.runner.graphs.run(a[0].tolist(), a[1].tolist(), a[2].tolist(), a[3].tolist(), swa)
        return
    dev = engine.device
    step = StepBatch(_batch(a[3:8], dev), _batch(a[8:13], dev) if len(a) > 8 else None)
    engine.model.forward(a[0].to(dev), a[1].to(dev), step, engine.kv, a[2].to(dev))
