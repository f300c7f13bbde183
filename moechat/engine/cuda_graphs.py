"""CUDA graphs for decode steps: one graph per batch size bucket, a batch padded up to the nearest.

Decode launches hundreds of small kernels per token; replaying a captured graph removes the per-launch
host cost. Inputs live in static buffers that each step overwrites. Padding rows attend to one key in
a scratch block that no sequence owns, so they cost almost nothing and touch nobody's cache.
"""

from __future__ import annotations

import torch

from moechat.engine.kv_cache import KVPool
from moechat.engine.model import GptOss
from moechat.kernels.attention import AttentionBatch

BUCKETS = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


class DecodeGraphs:
    def __init__(self, model: GptOss, kv: KVPool, scratch_block: int, max_batch: int, max_blocks_per_seq: int):
        self.model, self.kv = model, kv
        self.buckets = [b for b in BUCKETS if b <= max_batch]
        n, dev = self.buckets[-1], model.device
        self.max_batch = n
        self.scratch_slot = scratch_block * kv.block_size
        self.tokens = torch.zeros(n, dtype=torch.int64, device=dev)
        self.positions = torch.zeros(n, dtype=torch.int64, device=dev)
        self.slots = torch.full((n,), self.scratch_slot, dtype=torch.int64, device=dev)
        self.context_lens = torch.ones(n, dtype=torch.int32, device=dev)
        self.block_tables = torch.full((n, max_blocks_per_seq), scratch_block, dtype=torch.int32, device=dev)
        self.query_start = torch.arange(n + 1, dtype=torch.int32, device=dev)
        self.rows = torch.arange(n, dtype=torch.int64, device=dev)
        self.graphs: dict[int, tuple[torch.cuda.CUDAGraph, torch.Tensor]] = {}
        self.scratch_block = scratch_block

    def _forward(self, b: int) -> torch.Tensor:
        batch = AttentionBatch(self.query_start[:b + 1], self.context_lens[:b], self.block_tables[:b], self.slots[:b],
                               list(range(b + 1)), [1] * b, 1)
        return self.model.forward(self.tokens[:b], self.positions[:b], batch, self.kv, self.rows[:b])

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

    def bucket(self, n: int) -> int | None:
        return next((b for b in self.buckets if b >= n), None)

    def run(self, tokens: list[int], positions: list[int], slots: list[int], context_lens: list[int],
            tables: list[list[int]]) -> torch.Tensor:
        n = len(tokens)
        b = self.bucket(n)
        width = max(len(t) for t in tables)
        host = torch.tensor([tokens, positions, slots], dtype=torch.int64)
        self.tokens[:n].copy_(host[0], non_blocking=True)
        self.positions[:n].copy_(host[1], non_blocking=True)
        self.slots[:n].copy_(host[2], non_blocking=True)
        self.context_lens[:n].copy_(torch.tensor(context_lens, dtype=torch.int32), non_blocking=True)
        padded = [t + [self.scratch_block] * (width - len(t)) for t in tables]
        self.block_tables[:n, :width].copy_(torch.tensor(padded, dtype=torch.int32), non_blocking=True)
        if b > n:  # rows left over from a larger earlier batch become padding again
            self.slots[n:b].fill_(self.scratch_slot)
            self.context_lens[n:b].fill_(1)
            self.block_tables[n:b, 0].fill_(self.scratch_block)
        g, out = self.graphs[b]
        g.replay()
        return out[:n]
