"""GptOss: the gpt-oss forward pass over a flat batch of tokens from many sequences (no padding)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from moechat.engine.config import ModelConfig
from moechat.engine.kv_cache import KVPool
from moechat.kernels.attention import AttentionBatch
from moechat.kernels.dispatch import Ops
from moechat.kernels.moe import Routing
from moechat.kernels.rope import rope_tables, yarn_inv_freq_and_scale


@dataclass
class StepBatch:
    """Attention metadata of one step: the full pool's tables, and the sliding pool's if it has one."""

    full: AttentionBatch
    swa: AttentionBatch | None = None


EXPERT_KEYS = ("w1", "w1_blocks", "w1_scales", "w1_bias", "w2", "w2_blocks", "w2_scales", "w2_bias")


class GptOss:
    def __init__(self, cfg: ModelConfig, weights: dict[str, torch.Tensor], device: torch.device, dtype: torch.dtype,
                 all_reduce: Callable[[torch.Tensor], None] | None = None):
        """Under tensor parallelism cfg and weights are this rank's shard (parallel_shard.py) and all_reduce sums,
        in place, the ranks' partial outputs of the o-projection and of the MoE."""
        self.cfg, self.w, self.device, self.dtype = cfg, weights, device, dtype
        self.all_reduce = all_reduce
        self.ops = Ops(device)
        inv_freq, scale = yarn_inv_freq_and_scale(cfg.head_dim, cfg.rope_theta, cfg.rope_factor, cfg.rope_beta_fast,
                                                  cfg.rope_beta_slow, cfg.original_context, cfg.rope_truncate)
        self.cos, self.sin = rope_tables(cfg.max_position, inv_freq, scale, device)
        self.ops.lay_out_experts(weights)
        self.experts = [{k: weights[f"layers.{i}.{k}"] for k in EXPERT_KEYS if f"layers.{i}.{k}" in weights}
                        for i in range(cfg.num_layers)]
        for ex in self.experts:  # the MXFP4 kernels dequantize with one multiply when no scale exceeds 2^1
            if "w1_scales" in ex:
                ex["max_scale"] = int(max(ex["w1_scales"].max(), ex["w2_scales"].max()))
        self.sm_scale = cfg.head_dim ** -0.5

    @torch.inference_mode()
    def forward(self, tokens: torch.Tensor, positions: torch.Tensor, batch: StepBatch, kv: KVPool,
                logits_index: torch.Tensor | None) -> torch.Tensor:
        """tokens, positions [T]; returns float32 logits [len(logits_index), vocab] for the chosen rows (None:
        every row, as in a decode step)."""
        x = F.embedding(tokens, self.w["embedding"])  # a vectorized gather (indexing: 4.3 us a row, H100)
        eps, last = self.cfg.rms_eps, self.cfg.num_layers - 1
        h = self.ops.rmsnorm(x, self.w["layers.0.attn_norm"], eps)
        for i in range(self.cfg.num_layers):
            # each residual add is fused with the norm that follows it (and the route after the attention's), the
            # last layer's with the final norm
            p = f"layers.{i}."
            h, x, routing = self.ops.add_rmsnorm_route(self.attention(i, h, positions, batch, kv), x,
                                                       self.w[p + "mlp_norm"], eps, self.w[p + "router_w"],
                                                       self.w[p + "router_b"], self.cfg.experts_per_token)
            h, x = self.mlp_add_rmsnorm(i, h, routing, x, self.w[f"layers.{i + 1}.attn_norm" if i < last else "norm"])
        if logits_index is not None:
            h = h.index_select(0, logits_index)  # only the rows that sample
        return F.linear(h, self.w["unembedding"]).float()

    def attention(self, i: int, h: torch.Tensor, positions: torch.Tensor, step: StepBatch, kv: KVPool) -> torch.Tensor:
        c, p = self.cfg, f"layers.{i}."
        T = h.shape[0]
        k_cache, v_cache, swa = kv.layer(i)
        batch = step.swa if swa else step.full
        q = self.ops.qkv_rope_write_kv(h, self.w[p + "qkv_w"], self.w[p + "qkv_b"], c.num_heads, self.cos, self.sin,
                                       positions, k_cache, v_cache, batch.slot_mapping)
        window = c.sliding_window if c.is_sliding(i) else 0
        o = self.ops.attention(q, k_cache, v_cache, self.w[p + "sinks"], batch, window, self.sm_scale)
        return self._sum_ranks(self.ops.linear(o.reshape(T, c.num_heads * c.head_dim), self.w[p + "o_w"],
                                               self.w[p + "o_b"]))

    def mlp_add_rmsnorm(self, i: int, h: torch.Tensor, routing: Routing, residual: torch.Tensor,
                        norm_w: torch.Tensor):
        """(rmsnorm(moe(h) + residual), moe(h) + residual): the MoE's slots summed in the norm's pass, except
        under tensor parallelism, where the summed output is reduced across ranks first."""
        c = self.cfg
        if self.all_reduce is not None:
            m = self._sum_ranks(self.ops.moe(h, routing.weights, routing.experts, self.experts[i], c.swiglu_limit))
            return self.ops.add_rmsnorm(m, residual, norm_w, c.rms_eps)
        return self.ops.moe_add_rmsnorm(h, routing, self.experts[i], c.swiglu_limit, residual, norm_w, c.rms_eps)

    def _sum_ranks(self, x: torch.Tensor) -> torch.Tensor:
        if self.all_reduce is not None:
            self.all_reduce(x)
        return x
