"""Tensor parallelism's steps: rank 0's runner and decode graphs send each step's model inputs to the other ranks
before running it, and `run_received` runs such a step on another rank through the same model or graph code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from moechat.engine.cuda_graphs import DecodeGraphs
from moechat.engine.distributed import TPGroup
from moechat.engine.model_runner import ModelRunner
from moechat.engine.scheduler import ScheduledChunk

if TYPE_CHECKING:
    from moechat.engine.llm_engine import LLMEngine

EAGER, GRAPH = 1, 2  # message kinds: a forward on a staged step (ModelRunner.stage); a decode-graph replay


def _ints(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.int64)


class LeadRunner(ModelRunner):
    """Rank 0's runner: an eager step's inputs go to the other ranks before its forward."""

    def __init__(self, group: TPGroup, *args):
        super().__init__(*args)
        self.group = group

    def prepare(self, chunks: list[ScheduledChunk], device_tokens: torch.Tensor | None = None):
        staged, layout = self.stage(chunks)  # tensor parallelism never runs ahead (see LLMEngine): tokens included
        self.group.send(EAGER, [staged, torch.tensor(layout)])
        return self.inputs(staged, layout)


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
    tokens, positions, step, rows = engine.runner.inputs(a[0], a[1].tolist())
    engine.model.forward(tokens, positions, step, engine.kv, rows)
