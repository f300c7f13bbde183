"""ModelRunner: turns a scheduled step into the model's flat input tensors and returns the logits to sample."""

from __future__ import annotations

import torch

from moechat.engine.cuda_graphs import DecodeGraphs
from moechat.engine.kv_cache import KVPool
from moechat.engine.model import GptOss, StepBatch
from moechat.engine.scheduler import ScheduledChunk
from moechat.engine.sequence import Sequence
from moechat.engine.transfer import to_device
from moechat.kernels.attention import AttentionBatch


def slot(table: list[int | None], position: int, block_size: int) -> int:
    return table[position // block_size] * block_size + position % block_size


def chunk_slots(table: list[int | None], start: int, end: int, block_size: int) -> list[int]:
    """KV slots of positions start..end-1, a block's run at a time (a long prefill would otherwise take one
    Python call per token: ~6 ms of host time for 8k tokens, with the GPU idle)."""
    out: list[int] = []
    p = start
    while p < end:
        b, off = divmod(p, block_size)
        n = min(block_size - off, end - p)
        base = table[b] * block_size + off
        out.extend(range(base, base + n))
        p += n
    return out


def padded_table(seq: Sequence, swa: bool, width: int, scratch: int) -> list[int]:
    """A block-table row, trimmed entries (all below swa_trimmed) and the tail pointing at the scratch block."""
    if not swa:
        return seq.blocks + [scratch] * (width - len(seq.blocks))
    t, row = seq.swa_trimmed, seq.swa_blocks
    return [scratch] * t + row[t:] + [scratch] * (width - len(row))


class ModelRunner:
    def __init__(self, model: GptOss, kv: KVPool, graphs: DecodeGraphs | None = None):
        self.model, self.kv = model, kv
        self.device = model.device
        self.graphs = graphs
        self.trimming = kv.num_swa_blocks > 0

    def _tables(self, seqs: list[Sequence], swa: bool) -> list[list[int]]:
        scratch = self.kv.swa_scratch_block if swa else self.kv.scratch_block
        width = max(len(s.swa_blocks if swa else s.blocks) for s in seqs)
        return [padded_table(s, swa, width, scratch) for s in seqs]

    def prepare(self, chunks: list[ScheduledChunk], device_tokens: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, StepBatch, torch.Tensor]:
        """The step's input tensors; `device_tokens` replaces the token ids read from the sequences."""
        bs = self.kv.block_size
        tokens, positions, qstart, ctx, logit_rows = [], [], [0], [], []
        for c in chunks:
            if device_tokens is None:
                tokens += c.seq.tokens[c.start:c.start + c.length]
            positions += range(c.start, c.start + c.length)
            qstart.append(qstart[-1] + c.length)
            ctx.append(c.start + c.length)
            if c.samples:
                logit_rows.append(qstart[-1] - 1)
        dev = self.device

        def t(x, dtype):
            return to_device(x, dtype, dev)

        q, lens = t(qstart, torch.int32), t(ctx, torch.int32)
        seqs = [c.seq for c in chunks]

        def batch(swa: bool) -> AttentionBatch:
            slots: list[int] = []
            for c in chunks:
                slots += chunk_slots(c.seq.swa_blocks if swa else c.seq.blocks, c.start, c.start + c.length, bs)
            return AttentionBatch(query_start=q, context_lens=lens, block_tables=t(self._tables(seqs, swa), torch.int32),
                                  slot_mapping=t(slots, torch.int64), query_start_host=qstart, context_lens_host=ctx,
                                  max_query_len=max(c.length for c in chunks))

        step = StepBatch(batch(False), batch(True) if self.trimming else None)
        ids = t(tokens, torch.int64) if device_tokens is None else device_tokens
        return ids, t(positions, torch.int64), step, t(logit_rows, torch.int64)

    def run(self, chunks: list[ScheduledChunk], device_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """float32 logits, one row per chunk that samples, in chunk order. `device_tokens`: the chunks' token
        ids as a device tensor, for a decode step launched before its tokens reached the host."""
        if self.graphs is not None and all(c.length == 1 for c in chunks) and len(chunks) <= self.graphs.max_batch:
            bs = self.kv.block_size
            seqs = [c.seq for c in chunks]
            pos = [c.start for c in chunks]
            swa = ([slot(s.swa_blocks, p, bs) for s, p in zip(seqs, pos)], self._tables(seqs, True)) if self.trimming else None
            tokens = device_tokens if device_tokens is not None else [s.tokens[p] for s, p in zip(seqs, pos)]
            return self.graphs.run(tokens, pos, [slot(s.blocks, p, bs) for s, p in zip(seqs, pos)],
                                   self._tables(seqs, False), swa)
        tokens, positions, step, rows = self.prepare(chunks, device_tokens)
        return self.model.forward(tokens, positions, step, self.kv, rows)
