"""ModelRunner: turns a scheduled step into the model's flat input tensors and returns the logits to sample."""

from __future__ import annotations

from itertools import accumulate

import torch

from moechat.engine.cuda_graphs import DecodeGraphs
from moechat.engine.kv_cache import KVPool
from moechat.engine.model import GptOss, StepBatch
from moechat.engine.scheduler import ScheduledChunk
from moechat.engine.sequence import Sequence
from moechat.engine.transfer import staging
from moechat.kernels.attention import AttentionBatch


def slot(table: list[int | None], position: int, block_size: int) -> int:
    return table[position // block_size] * block_size + position % block_size


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
        return self.inputs(*self.stage(chunks, device_tokens is None), device_tokens)

    def stage(self, chunks: list[ScheduledChunk], with_tokens: bool = True) -> tuple[torch.Tensor, list[int]]:
        """Everything the host knows about a step as one int64 host tensor (pinned when the model is on a GPU) and
        its layout [sequences, sampled rows, block-table widths (full, sliding or 0), tokens]: one staging copy
        instead of one per array, and per-token arrays are expanded on the device (as Python lists copied one
        by one, an 8k-token prefill spent ~7 ms of host time with the GPU idle: H100 trace, session 3)."""
        S = len(chunks)
        lengths = [c.length for c in chunks]
        qstart = list(accumulate(lengths, initial=0))
        rows = [qstart[i + 1] - 1 for i, c in enumerate(chunks) if c.samples]
        seqs = [c.seq for c in chunks]
        tables = [self._tables(seqs, swa) for swa in ((False, True) if self.trimming else (False,))]
        host = [c.start for c in chunks] + lengths + qstart + [c.start + c.length for c in chunks] + rows
        for table in tables:
            host += [b for row in table for b in row]
        if with_tokens:
            for c in chunks:
                host += c.seq.tokens[c.start:c.start + c.length]
        widths = [len(t[0]) for t in tables] + [0] * (2 - len(tables))
        return staging(host, torch.int64, self.device), [S, len(rows), *widths, qstart[-1] if with_tokens else 0]

    def inputs(self, staged: torch.Tensor, layout: list[int], device_tokens: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, StepBatch, torch.Tensor]:
        """(tokens, positions, attention metadata, sampled rows) on the device from stage()'s host tensor (on
        another tensor-parallel rank: the one rank 0 staged and sent)."""
        S, n_rows, w_full, w_swa, n_tokens = layout
        bs, dev = self.kv.block_size, self.device
        qstart, ctx = staged[2 * S:3 * S + 1].tolist(), staged[3 * S + 1:4 * S + 1].tolist()
        total = qstart[-1]
        parts = iter(staged.to(dev, non_blocking=True).split(
            [S, S, S + 1, S, n_rows] + [S * w for w in (w_full, w_swa) if w] + [n_tokens] * bool(n_tokens)))
        start, length, qs, lens, rows = (next(parts) for _ in range(5))
        q, lens = qs.int(), lens.int()
        seq_of = torch.repeat_interleave(torch.arange(S, device=dev), length, output_size=total)
        positions = torch.arange(total, device=dev) - qs[seq_of] + start[seq_of]
        max_len = max(b - a for a, b in zip(qstart, qstart[1:]))

        def batch(width: int) -> AttentionBatch:
            block_tables = next(parts).view(S, width)
            slots = block_tables[seq_of, positions // bs] * bs + positions % bs
            return AttentionBatch(query_start=q, context_lens=lens, block_tables=block_tables.int(), slot_mapping=slots,
                                  query_start_host=qstart, context_lens_host=ctx, max_query_len=max_len)

        step = StepBatch(*(batch(w) for w in (w_full, w_swa) if w))
        return next(parts) if n_tokens else device_tokens, positions, step, rows

    def run(self, chunks: list[ScheduledChunk], device_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """float32 logits, one row per chunk that samples, in chunk order. `device_tokens`: the chunks' token
        ids as a device tensor, for a decode step launched before its tokens reached the host."""
        # a graph computes every row's logits: only for steps where every chunk is one token that samples
        if self.graphs is not None and all(c.length == 1 and c.samples for c in chunks) \
                and len(chunks) <= self.graphs.max_batch:
            bs = self.kv.block_size
            seqs = [c.seq for c in chunks]
            pos = [c.start for c in chunks]
            swa = None
            if self.trimming:
                swa = ([slot(s.swa_blocks, p, bs) for s, p in zip(seqs, pos)], self._tables(seqs, True))
            tokens = device_tokens if device_tokens is not None else [s.tokens[p] for s, p in zip(seqs, pos)]
            return self.graphs.run(tokens, pos, [slot(s.blocks, p, bs) for s, p in zip(seqs, pos)],
                                   self._tables(seqs, False), swa)
        tokens, positions, step, rows = self.prepare(chunks, device_tokens)
        return self.model.forward(tokens, positions, step, self.kv, rows)
