"""ModelRunner: turns a scheduled step into the model's flat input tensors and returns the logits to sample."""

from __future__ import annotations

from itertools import accumulate

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
        """The step's input tensors; `device_tokens` replaces the token ids read from the sequences.
        Everything the host knows goes to the device in one staging copy, and per-token positions and KV slots
        are expanded there from per-chunk numbers: built as Python lists and copied one by one, an 8k-token
        prefill spent ~7 ms of host time on them with the GPU idle (H100 trace, session 3)."""
        bs, dev, S = self.kv.block_size, self.device, len(chunks)
        lengths = [c.length for c in chunks]
        qstart = list(accumulate(lengths, initial=0))
        ctx = [c.start + c.length for c in chunks]
        logit_rows = [qstart[i + 1] - 1 for i, c in enumerate(chunks) if c.samples]
        seqs = [c.seq for c in chunks]
        tables = [self._tables(seqs, swa) for swa in ((False, True) if self.trimming else (False,))]
        host = [c.start for c in chunks] + lengths + qstart + ctx + logit_rows
        for table in tables:
            host += [b for row in table for b in row]
        if device_tokens is None:
            for c in chunks:
                host += c.seq.tokens[c.start:c.start + c.length]
        sizes = [S, S, S + 1, S, len(logit_rows)] + [S * len(t[0]) for t in tables]
        staged = iter(to_device(host, torch.int64, dev).split(sizes + [qstart[-1]] * (device_tokens is None)))
        start, length, qs, lens, rows = (next(staged) for _ in range(5))
        q, lens = qs.int(), lens.int()
        seq_of = torch.repeat_interleave(torch.arange(S, device=dev), length, output_size=qstart[-1])
        positions = torch.arange(qstart[-1], device=dev) - qs[seq_of] + start[seq_of]

        def batch(table: list[list[int]]) -> AttentionBatch:
            block_tables = next(staged).view(S, len(table[0]))
            slots = block_tables[seq_of, positions // bs] * bs + positions % bs
            return AttentionBatch(query_start=q, context_lens=lens, block_tables=block_tables.int(), slot_mapping=slots,
                                  query_start_host=qstart, context_lens_host=ctx, max_query_len=max(lengths))

        step = StepBatch(*(batch(t) for t in tables))
        return next(staged) if device_tokens is None else device_tokens, positions, step, rows

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
