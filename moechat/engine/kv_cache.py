"""The paged KV pools: one allocation per pool for all its layers, split into fixed-size blocks.

Full-attention layers share one pool. With sliding-window trimming, the sliding layers get a second,
smaller pool whose blocks are recycled once the window has moved past them. The last block of each pool
is scratch: padding rows of graph-replayed batches and trimmed table entries point there.
"""

from __future__ import annotations

import torch

from moechat.engine.config import ModelConfig


def bytes_per_block(cfg: ModelConfig, block_size: int, dtype: torch.dtype, layers: int | None = None) -> int:
    layers = cfg.num_layers if layers is None else layers
    return 2 * layers * block_size * cfg.num_kv_heads * cfg.head_dim * torch.tensor([], dtype=dtype).element_size()


class KVPool:
    """K and V: [layers, num_blocks, block_size, kv_heads, head_dim] per pool."""

    def __init__(self, cfg: ModelConfig, num_blocks: int, block_size: int, device: torch.device, dtype: torch.dtype,
                 num_swa_blocks: int = 0):
        sliding = [i for i in range(cfg.num_layers) if cfg.is_sliding(i)] if num_swa_blocks else []
        full = [i for i in range(cfg.num_layers) if i not in sliding]
        tail = (block_size, cfg.num_kv_heads, cfg.head_dim)
        # zeros, not empty: masked-out keys of a block must never hold NaN (0 * NaN poisons the sum)
        self.k = torch.zeros((len(full), num_blocks, *tail), device=device, dtype=dtype)
        self.v = torch.zeros_like(self.k)
        self.swa_k = torch.zeros((len(sliding), num_swa_blocks, *tail), device=device, dtype=dtype)
        self.swa_v = torch.zeros_like(self.swa_k)
        self.where = {layer: (False, j) for j, layer in enumerate(full)} | {layer: (True, j) for j, layer in enumerate(sliding)}
        self.num_blocks, self.num_swa_blocks, self.block_size = num_blocks, num_swa_blocks, block_size

    @property
    def scratch_block(self) -> int:
        return self.num_blocks - 1

    @property
    def swa_scratch_block(self) -> int:
        return self.num_swa_blocks - 1

    def layer(self, i: int) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """(k, v, uses the sliding pool's block tables) for layer i."""
        swa, j = self.where[i]
        return (self.swa_k[j], self.swa_v[j], True) if swa else (self.k[j], self.v[j], False)
