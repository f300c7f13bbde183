"""Host-to-device copies that do not make the host wait for the GPU.

A copy from ordinary (pageable) host memory is synchronous in torch: the host waits until everything queued
before it on the GPU has run, so a step's inputs could not be sent while the previous step still runs.
Staged in pinned memory the copy is asynchronous, and torch's pinned-memory allocator hands a staging block
out again only after the copy that reads it has run.
"""

from __future__ import annotations

import torch


def pinned(data, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(data, dtype=dtype, pin_memory=True)


def to_device(data, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if device.type != "cuda":
        return torch.tensor(data, dtype=dtype, device=device)
    return pinned(data, dtype).to(device, non_blocking=True)
