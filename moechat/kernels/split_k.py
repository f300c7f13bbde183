"""Split-K helpers: K cut into chunks of whole tiles, and arrival counts for split kernels whose last program
finishes the work: each program of a tile stores its
partial result, then counts its arrival (an acq_rel atomic after a CTA barrier); the last to arrive sums the
partials in split order (deterministic whatever the arrival order), finishes, and resets the count to zero for
the next call, so one kernel does what a partial kernel and a finishing kernel did. Kernels run one after another
on the stream (with PDL too: each waits before touching memory), so they share one buffer per device."""

from __future__ import annotations

import torch
import triton

_COUNTS: dict[torch.device, torch.Tensor] = {}


def arrival_counts(device: torch.device, tiles: int) -> torch.Tensor:
    """Zeroed int32 counts for `tiles` tiles, each call leaving them zero again. Made on first use, before any
    CUDA graph capture (the engine's warm-up runs eagerly first)."""
    buf = _COUNTS.get(device)
    if buf is None or buf.numel() < tiles:
        buf = _COUNTS[device] = torch.zeros(max(1024, tiles), dtype=torch.int32, device=device)
    return buf


def split_k(K: int, split: int, bk: int) -> tuple[int, int]:
    """(columns per split, number of splits): K cut into at most `split` chunks of whole BK tiles."""
    chunk = triton.cdiv(triton.cdiv(K, split), bk) * bk
    return chunk, triton.cdiv(K, chunk)
