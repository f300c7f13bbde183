"""Programmatic dependent launch (Hopper and later): a kernel's programs may be scheduled as soon as every program
of the kernel before it in the stream has exited, before that kernel's completion is signalled, so the next launch
overlaps the end of the last (a decode step is ~300 small kernels in a CUDA graph, each paying that gap otherwise).

Every Triton kernel takes `PDL: tl.constexpr = False` and calls `wait_for_previous(PDL)` as its first statement:
nothing is read or written before the previous kernel has completed and its memory is visible, so the order of
the stream still holds (and, since each kernel completes only after its wait, for kernels further back too).
No kernel signals its dependents early (griddepcontrol.launch_dependents at its start): the waiting programs
then took the SMs' slots from the running kernel, and single-stream decode got slower (bench/NOTES.md, session 5).
Launch sites pass `**launch_options(device)`. MOECHAT_PDL=0 turns it off (A/B measurements).
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl
from triton.language.extra.cuda import gdc_wait


@triton.jit
def wait_for_previous(PDL: tl.constexpr):
    if PDL:
        gdc_wait()  # the previous kernel has completed, its writes visible


_CAPABILITY: dict[torch.device, tuple[int, int]] = {}
_ENABLED: dict[torch.device, bool] = {}


def capability(device: torch.device) -> tuple[int, int]:
    """A CUDA device's compute capability, asked once (launch sites ask on every call)."""
    cap = _CAPABILITY.get(device)
    if cap is None:
        cap = _CAPABILITY[device] = torch.cuda.get_device_capability(device)
    return cap


def launch_options(device: torch.device) -> dict:
    """Kernel launch arguments: PDL on CUDA devices of compute capability 9.0 and later, else none (the CPU
    interpreter cannot run the griddepcontrol instruction)."""
    on = _ENABLED.get(device)
    if on is None:
        on = _ENABLED[device] = (device.type == "cuda" and os.environ.get("MOECHAT_PDL", "1") != "0"
                                 and capability(device) >= (9, 0))
    return {"PDL": True, "launch_pdl": True} if on else {}
