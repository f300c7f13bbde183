"""YaRN rotary embedding: tables and the torch reference rotation (halves, not pairs)."""

from __future__ import annotations

import math

import torch

from moechat.kernels.attention import write_kv_ref


def yarn_inv_freq_and_scale(head_dim: int, theta: float, factor: float, beta_fast: float, beta_slow: float,
                            original_context: int, truncate: bool) -> tuple[torch.Tensor, float]:
    freq = theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    if factor <= 1.0:
        return 1.0 / freq, 1.0
    d_half = head_dim / 2

    def correction_dim(rotations: float) -> float:
        return d_half * math.log(original_context / (rotations * 2 * math.pi)) / math.log(theta)

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, head_dim - 1)
    if low == high:
        high += 0.001
    ramp = ((torch.arange(int(d_half), dtype=torch.float32) - low) / (high - low)).clamp(0, 1)
    extrapolation_weight = 1 - ramp
    inv_freq = (1.0 / (factor * freq)) * (1 - extrapolation_weight) + (1.0 / freq) * extrapolation_weight
    return inv_freq, 0.1 * math.log(factor) + 1.0


def rope_tables(max_positions: int, inv_freq: torch.Tensor, scale: float, device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin, [max_positions, head_dim/2] float32, both scaled by YaRN's concentration."""
    pos = torch.arange(max_positions, dtype=torch.float32, device=device)
    freqs = pos[:, None] * inv_freq.to(device)[None, :]
    return freqs.cos() * scale, freqs.sin() * scale


def apply_rope_ref(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """x [T, heads, head_dim]; rotates element i with i + head_dim/2 by each token's position."""
    c = cos[positions][:, None, :]
    s = sin[positions][:, None, :]
    x1, x2 = x.float().chunk(2, dim=-1)
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).to(x.dtype)


def rope_write_kv_ref(q, k, v, cos, sin, positions, k_cache, v_cache, slot_mapping) -> torch.Tensor:
    """Rotate q and k, store rotated k and v in the pool; returns rotated q (rope_triton.rope_write_kv's reference)."""
    write_kv_ref(apply_rope_ref(k, cos, sin, positions), v, k_cache, v_cache, slot_mapping)
    return apply_rope_ref(q, cos, sin, positions)
