"""Ranks 1..N-1 of a tensor-parallel engine: join the group, build the engine on rank 0's arguments, and run
each step rank 0 sends until it says stop."""

from __future__ import annotations

import sys

import torch.distributed as dist

from moechat.engine.distributed import (COLLECTIVE_TIMEOUT, STOP, TPGroup, child_failed, child_started, join, one_line,
                                        torchrun_env)
from moechat.engine.llm_engine import LLMEngine
from moechat.engine.parallel_runner import run_received


def serve(group: TPGroup) -> None:
    engine = LLMEngine(group.share_args(None), group=group)
    while True:
        kind, arrays = group.channel.recv()
        if kind == STOP:
            break
        run_received(engine, kind, arrays)
    group.close()


def spawned_rank(rank: int, world: int, port: int, errors) -> None:
    """A rank moechat started (a multiprocessing target); its failure reaches rank 0 as one line."""
    child_started()
    try:
        store = dist.TCPStore("127.0.0.1", port, world, False, timeout=COLLECTIVE_TIMEOUT)
        serve(join(rank, world, rank, store))
    except BaseException as e:
        child_failed(errors, one_line(e))


def torchrun_rank() -> int:
    """A rank other than 0 that torchrun started: it serves rank 0, whatever its own command line says."""
    rank, world, local_rank = torchrun_env()
    try:
        serve(join(rank, world, local_rank))
    except Exception as e:
        print(f"moechat: error: tensor-parallel rank {rank} failed: {one_line(e)}", file=sys.stderr)
        return 1
    return 0
