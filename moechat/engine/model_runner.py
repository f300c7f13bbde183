"""ModelRunner: turns a scheduled step into the model's flat input tensors and returns the logits to sample."""

from __future__ import annotations

import torch

from moechat.engine.cuda_graphs import DecodeGraphs
from moechat.engine.kv_cache import KVPool
from moechat.engine.model import GptOss
from moechat.engine.scheduler import ScheduledChunk
from moechat.kernels.attention import AttentionBatch


class ModelRunner:
    def __init__(self, model: GptOss, kv: KVPool, graphs: DecodeGraphs | None = None):
        self.model, self.kv = model, kv
        self.device = model.device
        self.graphs = graphs

    def prepare(self, chunks: list[ScheduledChunk]) -> tuple[torch.Tensor, torch.Tensor, AttentionBatch, torch.Tensor]:
        bs = self.kv.block_size
        tokens, positions, slots, qstart, ctx, logit_rows = [], [], [], [0], [], []
        for c in chunks:
            seq_tokens = c.seq.tokens
            tokens += seq_tokens[c.start:c.start + c.length]
            pos = range(c.start, c.start + c.length)
            positions += pos
            slots += [c.seq.blocks[p // bs] * bs + p % bs for p in pos]
            qstart.append(qstart[-1] + c.length)
            ctx.append(c.start + c.length)
            if c.samples:
                logit_rows.append(qstart[-1] - 1)
        width = max(len(c.seq.blocks) for c in chunks)
        table = [c.seq.blocks + [0] * (width - len(c.seq.blocks)) for c in chunks]
        dev = self.device

        def t(x, dtype):
            return torch.tensor(x, dtype=dtype).to(dev, non_blocking=True)

        batch = AttentionBatch(
            query_start=t(qstart, torch.int32), context_lens=t(ctx, torch.int32), block_tables=t(table, torch.int32),
            slot_mapping=t(slots, torch.int64), query_start_host=qstart, context_lens_host=ctx,
            max_query_len=max(c.length for c in chunks),
        )
        return t(tokens, torch.int64), t(positions, torch.int64), batch, t(logit_rows, torch.int64)

    def run(self, chunks: list[ScheduledChunk]) -> torch.Tensor:
        """float32 logits, one row per chunk that samples, in chunk order."""
        if self.graphs is not None and all(c.length == 1 for c in chunks) and len(chunks) <= self.graphs.max_batch:
            bs = self.kv.block_size
            pos = [c.start for c in chunks]
            return self.graphs.run([c.seq.tokens[c.start] for c in chunks], pos,
                                   [c.seq.blocks[p // bs] * bs + p % bs for c, p in zip(chunks, pos)],
                                   [p + 1 for p in pos], [c.seq.blocks for c in chunks])
        tokens, positions, batch, rows = self.prepare(chunks)
        return self.model.forward(tokens, positions, batch, self.kv, rows)
