"""Data parallelism for batch jobs: N independent engine replicas, one process each, on their own GPU (or their own
tensor-parallel group of GPUs). Requests are dealt round-robin, so long and short ones spread evenly; the outputs
come back in input order. Replicas load, then all start generating at once, so the timing covers generation only.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import os
import time
from dataclasses import dataclass, replace
from typing import Callable

import torch

from moechat.engine.distributed import (child_failed, child_started, disable_multicast, exit_reason, one_line,
                                        stop_processes, torchrun_env)
from moechat.engine.llm_engine import EngineArgs, LLMEngine, RequestOutput
from moechat.engine.sampling import SamplingParams
from moechat.errors import MoechatError


@dataclass
class ReplicaRun:
    outputs: list[RequestOutput]  # in input order
    load_s: float  # the slowest replica's load
    wall_s: float  # from the common start to the last replica's end


def _replica(devices: str | None, threads: int, args: EngineArgs, prompts: list[list[int]],
             params: list[SamplingParams], conn) -> None:
    """One replica (a multiprocessing target): load, report ready, wait for go, generate, send the outputs."""
    child_started()
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    else:
        torch.set_num_threads(threads)
    try:
        engine = LLMEngine(args)
        conn.send(("ready", engine.load_time))
        conn.recv()

        def on_output(out: RequestOutput) -> None:
            if out.finished:
                conn.send(("finished", len(out.new_token_ids)))

        outputs = engine.generate(prompts, params, on_output=on_output)
        conn.send(("done", outputs))
        engine.close()
    except BaseException as e:
        child_failed(conn, ("error", one_line(e)))


def _placement(args: EngineArgs) -> list[str | None]:
    """CUDA_VISIBLE_DEVICES for each replica (None on the CPU)."""
    n, tp = args.data_parallel, args.tensor_parallel
    if args.resolved_device().type != "cuda":
        return [None] * n
    if args.device not in (None, "cuda"):
        raise MoechatError(f"--data-parallel places each replica on its own GPUs; pass --device cuda, not {args.device}")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(i) for i in range(torch.cuda.device_count())]
    if n * tp > len(gpus):
        raise MoechatError(f"--data-parallel {n} x --tensor-parallel {tp} needs {n * tp} GPUs; {len(gpus)} are visible")
    return [",".join(gpus[r * tp:(r + 1) * tp]) for r in range(n)]


def generate_replicas(args: EngineArgs, prompts: list[list[int]], params: list[SamplingParams],
                      on_finished: Callable[[int], None] | None = None) -> ReplicaRun:
    """Every prompt to completion on args.data_parallel replicas; on_finished(generated tokens) per request."""
    if torchrun_env():
        raise MoechatError("--data-parallel starts its own processes; run moechat directly, not under torchrun")
    n = args.data_parallel
    disable_multicast()
    placement = _placement(args)
    one = replace(args, data_parallel=1)
    ctx = mp.get_context("spawn")
    procs, conns = [], []
    for r in range(n):
        mine, theirs = ctx.Pipe()
        idx = list(range(r, len(prompts), n))
        procs.append(ctx.Process(target=_replica, name=f"moechat-replica-{r}", args=(
            placement[r], max(1, (os.cpu_count() or 1) // n), one, [prompts[i] for i in idx], [params[i] for i in idx],
            theirs)))
        procs[-1].start()
        theirs.close()
        conns.append(mine)
    try:
        loads = [_expect(r, procs, conns, "ready") for r in range(n)]
        t0 = time.perf_counter()
        for c in conns:
            c.send("go")
        results = _collect(procs, conns, on_finished)
        wall = time.perf_counter() - t0
        for p in procs:
            p.join()
    finally:
        stop_processes(procs)
    outputs: list[RequestOutput | None] = [None] * len(prompts)
    for r, res in enumerate(results):
        for k, out in enumerate(res):
            outputs[r + k * n] = out
    return ReplicaRun(outputs, max(loads), wall)


def _failure(r: int, procs: list, message: str | None) -> MoechatError:
    if message is None:
        message = exit_reason(procs[r])
    return MoechatError(f"data-parallel replica {r} failed: {message}")


def _receive(r: int, procs: list, conns: list) -> tuple:
    try:
        msg = conns[r].recv()
    except (EOFError, OSError):
        raise _failure(r, procs, None) from None
    if msg[0] == "error":
        raise _failure(r, procs, msg[1])
    return msg


def _expect(r: int, procs: list, conns: list, kind: str):
    msg = _receive(r, procs, conns)
    if msg[0] != kind:
        raise _failure(r, procs, f"sent {msg[0]!r} before {kind!r}")
    return msg[1]


def _collect(procs: list, conns: list, on_finished: Callable[[int], None] | None) -> list[list[RequestOutput]]:
    results: dict[int, list[RequestOutput]] = {}
    while len(results) < len(conns):
        pending = [c for r, c in enumerate(conns) if r not in results]
        for c in multiprocessing.connection.wait(pending):
            r = conns.index(c)
            msg = _receive(r, procs, conns)
            if msg[0] == "finished" and on_finished:
                on_finished(msg[1])
            elif msg[0] == "done":
                results[r] = msg[1]
    return [results[r] for r in range(len(conns))]
