"""A radix tree over full KV blocks keyed by their token ids, with ref counts and LRU eviction of leaves.

Each node owns one block of the full-attention pool and, optionally, one block of the sliding-window pool
(`swa`). A node's swa block is needed only while some sequence's window still covers it (`swa_refs`), or
if it lies in the last window before a point where later requests are likely to resume (the end of a
prompt or of a finished sequence: `keep_swa`); kept swa blocks are cache, evicted least recently used.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field


@dataclass(eq=False)
class Node:
    block: int
    tokens: tuple[int, ...]
    parent: "Node | None"
    children: dict[tuple[int, ...], "Node"] = field(default_factory=dict)
    refs: int = 0
    last_used: int = 0
    swa: int | None = None
    swa_refs: int = 0
    keep_swa: bool = False


class _LRU:
    """A heap of (stamp, node) candidates. An entry whose node was used since it was pushed goes back in
    with the node's new stamp, so the order stays least recently used and no candidate is ever lost."""

    def __init__(self) -> None:
        self.heap: list[tuple[int, int, Node]] = []
        self.tiebreak = itertools.count()

    def push(self, node: Node) -> None:
        heapq.heappush(self.heap, (node.last_used, next(self.tiebreak), node))

    def pop(self, valid) -> Node | None:
        while self.heap:
            stamp, _, node = heapq.heappop(self.heap)
            if not valid(node):
                continue
            if stamp != node.last_used:
                self.push(node)
                continue
            return node
        return None


class PrefixCache:
    def __init__(self, block_size: int):
        self.block_size = block_size
        self.root = Node(block=-1, tokens=(), parent=None)
        self.clock = itertools.count(1)
        self.num_nodes = 0
        self.unreferenced = 0   # nodes no sequence holds: full blocks eviction could free
        self.swa_cached = 0     # swa blocks no sequence needs, kept as cache: eviction could free them
        self._leaves = _LRU()
        self._swa = _LRU()

    def match(self, tokens: list[int]) -> list[Node]:
        """The longest chain of cached full blocks that prefixes `tokens`; each is touched and ref'd."""
        bs, node, path = self.block_size, self.root, []
        now = next(self.clock)
        for i in range(len(tokens) // bs):
            child = node.children.get(tuple(tokens[i * bs:(i + 1) * bs]))
            if child is None:
                break
            self.ref(child)
            child.last_used = now
            path.append(child)
            node = child
        return path

    def insert(self, parent: Node | None, tokens: tuple[int, ...], block: int) -> Node:
        """Register a full block under `parent` (None: the root). If an equal block is already there,
        that node is returned (ref'd) and the caller keeps ownership of its own `block`."""
        parent = parent or self.root
        node = parent.children.get(tokens)
        if node is None:
            node = Node(block=block, tokens=tokens, parent=parent)
            parent.children[tokens] = node
            self.num_nodes += 1
            self.unreferenced += 1
        self.ref(node)
        node.last_used = next(self.clock)
        return node

    def ref(self, node: Node) -> None:
        if node.refs == 0:
            self.unreferenced -= 1
        node.refs += 1

    def release(self, nodes: list[Node]) -> None:
        now = next(self.clock)
        for n in nodes:
            n.refs -= 1
            n.last_used = now
            if n.refs == 0:
                self.unreferenced += 1
                if not n.children:
                    self._leaves.push(n)

    def swa_ref(self, node: Node) -> None:
        if node.swa_refs == 0:
            self.swa_cached -= 1
        node.swa_refs += 1

    def swa_unref(self, node: Node) -> int | None:
        """Drop one sequence's need for the node's swa block; returns the block if it is now free."""
        node.swa_refs -= 1
        if node.swa_refs:
            return None
        if node.keep_swa:
            self.swa_cached += 1
            self._swa.push(node)
            return None
        block, node.swa = node.swa, None
        return block

    def adopt_swa(self, node: Node, block: int) -> None:
        """Give a node that has no swa block (or whose was evicted) this one; the caller holds a ref on it."""
        node.swa, node.swa_refs = block, 1

    def evict(self, want: int) -> tuple[list[int], list[int]]:
        """Free up to `want` full blocks no sequence holds, least recently used leaves first.
        Returns (full blocks, swa blocks) freed."""
        freed, freed_swa = [], []
        while len(freed) < want:
            n = self._leaves.pop(lambda n: n.refs == 0 and not n.children and n.parent is not None)
            if n is None:
                break
            del n.parent.children[n.tokens]
            parent, n.parent = n.parent, None
            self.num_nodes -= 1
            self.unreferenced -= 1
            freed.append(n.block)
            if n.swa is not None:
                freed_swa.append(n.swa)
                n.swa = None
                self.swa_cached -= 1
            if parent is not self.root and parent.refs == 0 and not parent.children:
                self._leaves.push(parent)
        return freed, freed_swa

    def evict_swa(self, want: int) -> list[int]:
        """Free up to `want` cached swa blocks, least recently used first; their nodes stay."""
        freed = []
        while len(freed) < want:
            n = self._swa.pop(lambda n: n.swa is not None and n.swa_refs == 0)
            if n is None:
                break
            freed.append(n.swa)
            n.swa = None
            self.swa_cached -= 1
        return freed
