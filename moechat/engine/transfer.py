"""Copies between host and device that do not make the host wait for more GPU work than it needs.

A copy from ordinary (pageable) host memory is synchronous in torch: the host waits until everything queued
before it on the GPU has run, so a step's inputs could not be sent while the previous step still runs.
Staged in pinned memory the copy is asynchronous, and torch's pinned-memory allocator hands a staging block
out again only after the copy that reads it has run.
"""

from __future__ import annotations

import torch


def pinned(data, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(data, dtype=dtype, pin_memory=True)


def staging(data, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A host tensor of data, ready for an asynchronous copy to device (pinned when it is a GPU)."""
    return pinned(data, dtype) if device.type == "cuda" else torch.tensor(data, dtype=dtype)


def to_device(data, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return staging(data, dtype, device).to(device, non_blocking=True)


class HostCopy:
    """A device tensor's copy to host memory, queued now; reading it waits for the copy only, not for work
    queued after it (a plain .tolist() would also wait for the next step launched meanwhile)."""

    def __init__(self, t: torch.Tensor):
        self.host, self.done = t, None
        if t.is_cuda:
            self.host = t.to("cpu", non_blocking=True)  # into pinned memory
            self.done = torch.cuda.Event()
            self.done.record()

    def tolist(self) -> list:
        if self.done is not None:
            self.done.synchronize()
        return self.host.tolist()
