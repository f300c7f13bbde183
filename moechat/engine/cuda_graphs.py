"""CUDA graphs for decode steps: one graph per batch size bucket, a batch padded up to the nearest.

Decode launches hundreds of small kernels per token; replaying a captured graph removes the per-launch
host cost. Inputs live in static buffers that each step overwrites. Padding rows attend to one key in
each pool's scratch block, which no sequence owns, so they cost almost nothing and touch nobody's cache.
"""

from __future__ import annotations

import torch

from moechat.engine.kv_cache import KVPool
from moechat.engine.model import GptOss, StepBatch
from moechat.engine.transfer import pinned
from moechat.kernels.attention import AttentionBatch

BUCKETS = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


class _Tables:
    """Static block tables and KV slots of one pool."""

    def __init__(self, n: int, width: int, scratch: int, block_size: int, device: torch.device):
        self.scratch, self.scratch_slot = scratch, scratch * block_size
        self.slots = torch.full((n,), self.scratch_slot, dtype=torch.int64, device=device)
        self.tables = torch.full((n, width), scratch, dtype=torch.int32, device=device)

    def fill(self, slots: list[int], tables: list[list[int]], bucket: int) -> None:
        n = len(slots)
        self.slots[:n].copy_(pinned(slots, torch.int64), non_blocking=True)
        self.tables[:n, :len(tables[0])].copy_(pinned(tables, torch.int32), non_blocking=True)
        if bucket > n:  # rows left over from a larger earlier batch become padding again
            self.slots[n:bucket].fill_(self.scratch_slot)
            self.tables[n:bucket, 0].fill_(self.scratch)


class DecodeGraphs:
    def __init__(self, model: GptOss, kv: KVPool, max_batch: int, max_blocks_per_seq: int):
        self.model, self.kv = model, kv
        self.buckets = [b for b in BUCKETS if b <= max_batch] or [1]
        n, dev = self.buckets[-1], model.device
        self.max_batch = n
        self.tokens = torch.zeros(n, dtype=torch.int64, device=dev)
        self.positions = torch.zeros(n, dtype=torch.int64, device=dev)
        self.context_lens = torch.ones(n, dtype=torch.int32, device=dev)
        self.query_start = torch.arange(n + 1, dtype=torch.int32, device=dev)
        self.full = _Tables(n, max_blocks_per_seq, kv.scratch_block, kv.block_size, dev)
        self.swa = _Tables(n, max_blocks_per_seq, kv.swa_scratch_block, kv.block_size, dev) if kv.num_swa_blocks else None
        self.graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor]] = {}

    def _forward(self, b: int) -> torch.Tensor:
        def batch(t: _Tables) -> AttentionBatch:
            return AttentionBatch(self.query_start[:b + 1], self.context_lens[:b], t.tables[:b], t.slots[:b],
                                  list(range(b + 1)), [1] * b, 1)

        step = StepBatch(batch(self.full), batch(self.swa) if self.swa else None)
        return self.model.forward(self.tokens[:b], self.positions[:b], step, self.kv, None)  # every row samples

    def capture(self) -> None:
        pool = None
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for b in reversed(self.buckets):  # largest first, so smaller graphs fit in its memory pool
                self._forward(b)  # compile kernels and settle the allocator outside the capture
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g, pool=pool, stream=stream):
                    out = self._forward(b)
                pool = g.pool()
                self.graphs[b] = (g, out)
        torch.cuda.current_stream().wait_stream(stream)
        torch.cuda.synchronize()

    def run(self, tokens: list[int] | torch.Tensor, positions: list[int], slots: list[int], tables: list[list[int]],
            swa: tuple[list[int], list[list[int]]] | None) -> torch.Tensor:
        """tokens: host ids, or a device tensor (a step launched before the previous one's tokens reached
        the host)."""
        n = len(positions)
        b = next(b for b in self.buckets if b >= n)
        host = pinned([positions, [p + 1 for p in positions]], torch.int64)
        self.tokens[:n].copy_(tokens if isinstance(tokens, torch.Tensor) else pinned(tokens, torch.int64),
                              non_blocking=True)
        self.positions[:n].copy_(host[0], non_blocking=True)
        self.context_lens[:n].copy_(host[1], non_blocking=True)
        if b > n:
            self.context_lens[n:b].fill_(1)
        self.full.fill(slots, tables, b)
        if self.swa is not None:
            self.swa.fill(*swa, b)
        g, out = self.graphs[b]
        g.replay()
        return out[:n]
