"""Attention over the paged KV cache with learned sinks, GQA and an optional sliding window: torch reference.

The pool holds K and V as [num_blocks, block_size, kv_heads, head_dim]; a sequence's keys live in the
blocks its block-table row lists, in order. Each sequence's new queries are the last tokens of its
context, so query i of n sits at position context_len - n + i.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class AttentionBatch:
    """Where each sequence's queries and keys are. Tensors live on the model's device."""

    query_start: torch.Tensor   # [S+1] int32: sequence s owns queries query_start[s]:query_start[s+1]
    context_lens: torch.Tensor  # [S] int32: keys visible to the sequence after this step's writes
    block_tables: torch.Tensor  # [S, max_blocks] int32
    slot_mapping: torch.Tensor  # [T] int64: pool slot (block * block_size + offset) for each new token's K/V
    query_start_host: list[int]  # the same numbers on the host, so the reference path never syncs
    context_lens_host: list[int]
    max_query_len: int

    @property
    def num_seqs(self) -> int:
        return len(self.context_lens_host)


def write_kv_ref(k: torch.Tensor, v: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                 slot_mapping: torch.Tensor) -> None:
    """Store new tokens' K and V [T, kv_heads, head_dim] into their pool slots."""
    k_cache.view(-1, *k_cache.shape[2:])[slot_mapping] = k.to(k_cache.dtype)
    v_cache.view(-1, *v_cache.shape[2:])[slot_mapping] = v.to(v_cache.dtype)


def paged_attention_ref(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, sinks: torch.Tensor,
                        batch: AttentionBatch, window: int, scale: float) -> torch.Tensor:
    """q [T, heads, head_dim] -> [T, heads, head_dim]. window=0 means full causal attention;
    otherwise query at position p sees keys p - window < j <= p."""
    block_size, kv_heads, head_dim = k_cache.shape[1:]
    heads = q.shape[1]
    group = heads // kv_heads
    out = torch.empty_like(q)
    for s in range(batch.num_seqs):
        q0, q1 = batch.query_start_host[s], batch.query_start_host[s + 1]
        n, ctx = q1 - q0, batch.context_lens_host[s]
        if n == 0:
            continue
        nblocks = -(-ctx // block_size)
        blocks = batch.block_tables[s, :nblocks].long()
        k = k_cache[blocks].reshape(-1, kv_heads, head_dim)[:ctx].float()
        v = v_cache[blocks].reshape(-1, kv_heads, head_dim)[:ctx].float()
        qs = q[q0:q1].float().view(n, kv_heads, group, head_dim)
        scores = torch.einsum("qhgd,khd->hgqk", qs, k) * scale  # [kv_heads, group, n, ctx]
        qpos = torch.arange(ctx - n, ctx, device=q.device)[:, None]
        kpos = torch.arange(ctx, device=q.device)[None, :]
        visible = kpos <= qpos
        if window:
            visible &= kpos > qpos - window
        scores = scores.masked_fill(~visible, float("-inf"))
        sink = sinks.float().view(kv_heads, group, 1, 1).expand(kv_heads, group, n, 1)
        probs = torch.softmax(torch.cat([scores, sink], dim=-1), dim=-1)[..., :-1]
        o = torch.einsum("hgqk,khd->qhgd", probs, v)
        out[q0:q1] = o.reshape(n, heads, head_dim).to(q.dtype)
    return out
