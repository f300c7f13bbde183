"""The paged KV pool: one allocation for all layers, split into fixed-size blocks."""

from __future__ import annotations

import torch

from moechat.engine.config import ModelConfig


def bytes_per_block(cfg: ModelConfig, block_size: int, dtype: torch.dtype) -> int:
    return 2 * cfg.num_layers * block_size * cfg.num_kv_heads * cfg.head_dim * torch.tensor([], dtype=dtype).element_size()


class KVPool:
    """K and V for every layer: [layers, num_blocks, block_size, kv_heads, head_dim] each."""

    def __init__(self, cfg: ModelConfig, num_blocks: int, block_size: int, device: torch.device, dtype: torch.dtype):
        shape = (cfg.num_layers, num_blocks, block_size, cfg.num_kv_heads, cfg.head_dim)
        # zeros, not empty: masked-out keys of a block must never hold NaN (0 * NaN poisons the sum)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.num_blocks = num_blocks
        self.block_size = block_size

    @classmethod
    def sized(cls, cfg: ModelConfig, budget_bytes: int, block_size: int, device: torch.device, dtype: torch.dtype) -> "KVPool":
        num_blocks = max(2, budget_bytes // bytes_per_block(cfg, block_size, dtype))
        return cls(cfg, int(num_blocks), block_size, device, dtype)
