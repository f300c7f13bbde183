"""Hands out KV blocks to sequences, sharing full blocks through the prefix cache.

Two pools when the model has sliding-window layers: the full-attention layers keep every block of a
sequence; the sliding layers (own pool, `swa`) drop the blocks their window has moved past, so their
memory stops growing past the window. A cached prefix is reusable only up to a point whose last window
of sliding blocks is still cached.
"""

from __future__ import annotations

from moechat.engine.prefix_cache import Node, PrefixCache
from moechat.engine.sequence import Sequence


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int, prefix_caching: bool = True,
                 window: int = 0, num_swa_blocks: int = 0):
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.window = window  # 0: the sliding layers share the full pool, nothing is trimmed
        self.num_swa_blocks = num_swa_blocks if window else 0
        self.free: list[int] = list(range(num_blocks - 1, -1, -1))
        self.swa_free: list[int] = list(range(self.num_swa_blocks - 1, -1, -1))
        self.cache = PrefixCache(block_size)
        self.prefix_caching = prefix_caching

    @property
    def num_free(self) -> int:
        """Full-pool blocks available now: never used, or cached and held by no sequence."""
        return len(self.free) + self.cache.unreferenced

    @property
    def num_swa_free(self) -> int:
        return len(self.swa_free) + self.cache.swa_cached

    @property
    def num_used(self) -> int:
        return self.num_blocks - self.num_free

    def blocks_needed(self, seq: Sequence, upto: int) -> int:
        return max(0, -(-upto // self.block_size) - len(seq.blocks))

    def _take(self, n: int) -> list[int]:
        if len(self.free) < n:
            full, swa = self.cache.evict(n - len(self.free))
            self.free.extend(full)
            self.swa_free.extend(swa)
        if len(self.free) < n:
            raise RuntimeError("KV pool exhausted")  # callers check num_free first
        return [self.free.pop() for _ in range(n)]

    def _take_swa(self, n: int) -> list[int]:
        if len(self.swa_free) < n:
            self.swa_free.extend(self.cache.evict_swa(n - len(self.swa_free)))
        if len(self.swa_free) < n:
            raise RuntimeError("sliding-window KV pool exhausted")
        return [self.swa_free.pop() for _ in range(n)]

    def _first_in_window(self, position: int) -> int:
        """The first block index whose keys a query at `position` (or later) can still see."""
        return max(0, (position - self.window + 1) // self.block_size)

    def match_prefix(self, seq: Sequence) -> None:
        """On admission: adopt the longest usable cached prefix. At least one prompt token is always left
        to compute, because its logits give the first new token."""
        if not self.prefix_caching:
            return
        nodes = self.cache.match(seq.tokens[: seq.length - 1])
        k = len(nodes)
        if self.window:
            while k and any(n.swa is None for n in nodes[self._first_in_window(k * self.block_size):k]):
                k -= 1
            self.cache.release(nodes[k:][::-1])
        seq.nodes = nodes[:k]
        seq.blocks = [n.block for n in seq.nodes]
        if self.window:
            first = self._first_in_window(k * self.block_size)
            seq.swa_blocks = [None] * first + [n.swa for n in seq.nodes[first:]]
            seq.swa_trimmed = first
            for n in seq.nodes[first:]:
                self.cache.swa_ref(n)
        seq.num_computed = k * self.block_size

    def allocate(self, seq: Sequence, upto: int) -> bool:
        """Make room for the K/V of tokens [0, upto). False if the pools cannot."""
        need = self.blocks_needed(seq, upto)
        if need == 0:  # most decode steps stay inside the last block
            return True
        if need > self.num_free or (self.window and need > self.num_swa_free):
            return False
        seq.blocks.extend(self._take(need))
        if self.window:
            seq.swa_blocks.extend(self._take_swa(need))
        return True

    def commit_full_blocks(self, seq: Sequence) -> None:
        """Register blocks whose K/V are now complete in the prefix tree, so later requests can share them."""
        if not self.prefix_caching:
            return
        bs = self.block_size
        while len(seq.nodes) < seq.num_computed // bs:
            i = len(seq.nodes)
            parent = seq.nodes[-1] if seq.nodes else None
            node = self.cache.insert(parent, tuple(seq.tokens[i * bs:(i + 1) * bs]), seq.blocks[i])
            if node.block != seq.blocks[i]:  # an identical block was cached meanwhile: use it, free ours
                self.free.append(seq.blocks[i])
                seq.blocks[i] = node.block
            if self.window:
                self._share_swa(seq, i, node)
            seq.nodes.append(node)

    def _share_swa(self, seq: Sequence, i: int, node: Node) -> None:
        ours = seq.swa_blocks[i]
        if ours is None:
            return
        if node.swa is None:
            self.cache.adopt_swa(node, ours)
        else:  # an identical block was cached meanwhile: use its sliding block too
            self.swa_free.append(ours)
            self.cache.swa_ref(node)
            seq.swa_blocks[i] = node.swa
        # a request resumes from this prompt at its last block boundary (the next turn of a chat) or one
        # block earlier (the same prompt again: one token is always recomputed): keep the windows before both
        bs = self.block_size
        if self._first_in_window((seq.num_prompt - 1) // bs * bs) <= i < seq.num_prompt // bs:
            node.keep_swa = True

    def trim(self, seq: Sequence) -> None:
        """Drop the sliding-layer blocks that no future query of this sequence can see."""
        if not self.window:
            return
        limit = min(self._first_in_window(seq.num_computed), len(seq.swa_blocks))
        for i in range(seq.swa_trimmed, limit):
            self._drop_swa(seq, i)
        seq.swa_trimmed = max(seq.swa_trimmed, limit)

    def _drop_swa(self, seq: Sequence, i: int) -> None:
        block = seq.swa_blocks[i]
        if block is None:
            return
        seq.swa_blocks[i] = None
        if i < len(seq.nodes):
            block = self.cache.swa_unref(seq.nodes[i])
        if block is not None:
            self.swa_free.append(block)

    def release(self, seq: Sequence) -> None:
        """Give back a sequence's blocks: tree blocks stay cached, the rest return to the free list."""
        if self.window:
            # the window at the end of what was computed is where a continuation would resume
            for n in seq.nodes[self._first_in_window(len(seq.nodes) * self.block_size):]:
                n.keep_swa = True
            for i in range(len(seq.swa_blocks)):
                self._drop_swa(seq, i)
        self.cache.release(seq.nodes[::-1])
        self.free.extend(seq.blocks[len(seq.nodes):])
        seq.blocks, seq.nodes, seq.swa_blocks, seq.swa_trimmed = [], [], [], 0
        seq.num_computed = 0
