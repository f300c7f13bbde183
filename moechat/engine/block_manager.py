"""Hands out KV blocks to sequences, sharing full blocks through the prefix cache."""

from __future__ import annotations

from moechat.engine.prefix_cache import PrefixCache
from moechat.engine.sequence import Sequence


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int, prefix_caching: bool = True):
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.free: list[int] = list(range(num_blocks - 1, -1, -1))
        self.cache = PrefixCache(block_size)
        self.prefix_caching = prefix_caching

    @property
    def num_free(self) -> int:
        """Blocks available now: never used, or cached and held by no sequence."""
        return len(self.free) + self.cache.unreferenced

    @property
    def num_used(self) -> int:
        return self.num_blocks - self.num_free

    def blocks_needed(self, seq: Sequence, upto: int) -> int:
        return max(0, -(-upto // self.block_size) - len(seq.blocks))

    def _take(self, n: int) -> list[int]:
        if len(self.free) < n:
            self.free.extend(self.cache.evict(n - len(self.free)))
        if len(self.free) < n:
            raise RuntimeError("KV pool exhausted")  # callers check num_free first
        return [self.free.pop() for _ in range(n)]

    def match_prefix(self, seq: Sequence) -> None:
        """On admission: adopt the longest cached prefix. At least one prompt token is always left to
        compute, because its logits give the first new token."""
        if not self.prefix_caching:
            return
        tokens = seq.tokens
        nodes = self.cache.match(tokens[: len(tokens) - 1])
        seq.nodes = nodes
        seq.blocks = [n.block for n in nodes]
        seq.num_computed = len(nodes) * self.block_size

    def allocate(self, seq: Sequence, upto: int) -> bool:
        """Make room for the K/V of tokens [0, upto). False if the pool cannot."""
        need = self.blocks_needed(seq, upto)
        if need > self.num_free:
            return False
        seq.blocks.extend(self._take(need))
        return True

    def commit_full_blocks(self, seq: Sequence) -> None:
        """Register blocks whose K/V are now complete in the prefix tree, so later requests can share them."""
        if not self.prefix_caching:
            return
        bs = self.block_size
        tokens = seq.tokens
        while len(seq.nodes) < seq.num_computed // bs:
            i = len(seq.nodes)
            parent = seq.nodes[-1] if seq.nodes else None
            node = self.cache.insert(parent, tuple(tokens[i * bs:(i + 1) * bs]), seq.blocks[i])
            if node.block != seq.blocks[i]:  # an identical block was cached meanwhile: use it, free ours
                self.free.append(seq.blocks[i])
                seq.blocks[i] = node.block
            seq.nodes.append(node)

    def release(self, seq: Sequence) -> None:
        """Give back a sequence's blocks: tree blocks stay cached, the rest return to the free list."""
        self.cache.release(seq.nodes[::-1])
        self.free.extend(seq.blocks[len(seq.nodes):])
        seq.blocks, seq.nodes = [], []
        seq.num_computed = 0
