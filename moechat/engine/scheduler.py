"""Continuous batching: each step mixes decode tokens of running sequences with prefill chunks of others.

Order of service in a step: sequences already running (decode, or the rest of a chunked prefill), then
waiting ones first come first served, all under a token budget and a sequence cap. When the pool runs
dry, the newest running sequence is preempted: its blocks are freed and it is recomputed later.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from moechat.engine.block_manager import BlockManager
from moechat.engine.sequence import Sequence, Status


@dataclass
class ScheduledChunk:
    seq: Sequence
    start: int     # first token position computed in this step
    length: int    # tokens computed in this step
    # whether its last logits give a new token: by default, when the chunk reaches the end of the sequence
    samples: bool | None = None

    def __post_init__(self) -> None:
        if self.samples is None:
            self.samples = self.start + self.length == self.seq.length


class Scheduler:
    def __init__(self, blocks: BlockManager, max_num_seqs: int, max_num_batched_tokens: int):
        self.blocks = blocks
        self.max_num_seqs = max_num_seqs
        self.max_num_batched_tokens = max_num_batched_tokens
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []
        self.num_preemptions = 0

    def add(self, seq: Sequence) -> None:
        self.waiting.append(seq)

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def schedule(self) -> list[ScheduledChunk]:
        budget = self.max_num_batched_tokens
        chunks: list[ScheduledChunk] = []
        for seq in list(self.running):
            if budget == 0:
                break
            if seq.status is not Status.RUNNING:
                continue  # preempted below, while making room for an earlier sequence
            n = min(seq.num_pending, budget)
            while not self.blocks.allocate(seq, seq.num_computed + n):
                victim = self.running[-1]
                self._preempt(victim)
                if victim is seq:
                    break
            if seq.status is Status.RUNNING:
                chunks.append(ScheduledChunk(seq, seq.num_computed, n))
                budget -= n
        while self.waiting and budget > 0 and len(self.running) < self.max_num_seqs:
            seq = self.waiting[0]
            self.blocks.match_prefix(seq)  # a waiting sequence holds no blocks (new, or released on preemption)
            n = min(seq.num_pending, budget)
            if not self.blocks.allocate(seq, seq.num_computed + n):
                self.blocks.release(seq)
                break
            if not seq.admitted:
                seq.cached_tokens = seq.num_computed
                seq.admitted = True
            self.waiting.popleft()
            seq.status = Status.RUNNING
            self.running.append(seq)
            chunks.append(ScheduledChunk(seq, seq.num_computed, n))
            budget -= n
        return chunks

    def _preempt(self, seq: Sequence) -> None:
        self.running.remove(seq)
        self.blocks.release(seq)
        seq.status = Status.WAITING
        self.waiting.appendleft(seq)
        self.num_preemptions += 1

    def finish(self, seq: Sequence, reason: str) -> None:
        if seq.status is Status.RUNNING:
            self.running.remove(seq)
        elif seq in self.waiting:
            self.waiting.remove(seq)
        self.blocks.release(seq)
        seq.status = Status.FINISHED
        seq.finish_reason = reason
