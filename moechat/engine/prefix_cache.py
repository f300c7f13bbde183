"""A radix tree over full KV blocks keyed by their token ids, with ref counts and LRU eviction of leaves."""

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


class PrefixCache:
    def __init__(self, block_size: int):
        self.block_size = block_size
        self.root = Node(block=-1, tokens=(), parent=None)
        self.clock = itertools.count(1)
        self.num_nodes = 0
        self.unreferenced = 0  # nodes no sequence holds: what eviction could free
        self._leaves: list[tuple[int, int, Node]] = []  # heap of (last_used, tiebreak, node) candidates
        self._tiebreak = itertools.count()

    def match(self, tokens: list[int]) -> list[Node]:
        """The longest chain of cached full blocks that prefixes `tokens`; each is touched and ref'd."""
        bs, node, path = self.block_size, self.root, []
        now = next(self.clock)
        for i in range(len(tokens) // bs):
            child = node.children.get(tuple(tokens[i * bs:(i + 1) * bs]))
            if child is None:
                break
            self._ref(child)
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
        self._ref(node)
        node.last_used = next(self.clock)
        return node

    def release(self, nodes: list[Node]) -> None:
        now = next(self.clock)
        for n in nodes:
            n.refs -= 1
            n.last_used = now
            if n.refs == 0:
                self.unreferenced += 1
            if n.refs == 0 and not n.children:
                heapq.heappush(self._leaves, (n.last_used, next(self._tiebreak), n))

    def evict(self, want: int) -> list[int]:
        """Free up to `want` blocks no sequence holds, least recently used leaves first."""
        freed = []
        while len(freed) < want and self._leaves:
            stamp, _, n = heapq.heappop(self._leaves)
            if n.refs or n.children or n.parent is None or stamp != n.last_used:
                continue  # stale entry: used again, or gained children, or already evicted
            del n.parent.children[n.tokens]
            parent, n.parent = n.parent, None
            self.num_nodes -= 1
            self.unreferenced -= 1
            freed.append(n.block)
            if parent is not self.root and parent.refs == 0 and not parent.children:
                heapq.heappush(self._leaves, (parent.last_used, next(self._tiebreak), parent))
        return freed

    def _ref(self, node: Node) -> None:
        if node.refs == 0:
            self.unreferenced -= 1
        node.refs += 1
