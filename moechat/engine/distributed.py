"""Tensor parallelism's processes: the launcher, the process groups, and the channel that carries each step
from rank 0 to the other ranks.

moechat starts ranks 1..N-1 itself (spawned processes, rank 0 is the calling process), or joins a group that
torchrun started (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT in the environment). Two groups: the
default one (NCCL for CUDA tensors, gloo for CPU ones) carries the model's all-reduces, with a timeout; a gloo
group carries the step messages and waits as long as rank 0 stays idle (a chat waiting for its user). Rank 0
watches the ranks it started: when one dies, the job ends with one line naming it and no process left behind.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist

from moechat.errors import MoechatError

if TYPE_CHECKING:
    from moechat.engine.llm_engine import EngineArgs

# NVLink multicast (NVLS in NCCL, multicast in symmetric memory) stays off in moechat and every process it starts
MULTICAST_OFF = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1"}
COLLECTIVE_TIMEOUT = timedelta(minutes=10)
IDLE_TIMEOUT = timedelta(days=365)
STOP = 0  # the step channel's shutdown message


def disable_multicast() -> None:
    os.environ.update(MULTICAST_OFF)


def torchrun_env() -> tuple[int, int, int] | None:
    """(rank, world size, local rank) when torchrun (or another env:// launcher) started this process."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    rank = int(os.environ["RANK"])
    return rank, int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", rank))


def one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if isinstance(e, MoechatError) and text else f"{type(e).__name__}: {text[0] if text else ''}"


class StepChannel:
    """Rank 0 -> every other rank: a message kind and up to 16 int64 arrays (at most 2-D), in two broadcasts."""

    HEADER = 2 + 3 * 16

    def __init__(self, group):
        self.group = group

    def send(self, kind: int, arrays: list[torch.Tensor]) -> None:
        header = [kind, len(arrays)]
        for a in arrays:
            header += [a.dim(), *a.shape, *[0] * (2 - a.dim())]
        dist.broadcast(torch.tensor(header + [0] * (self.HEADER - len(header)), dtype=torch.int64), 0, group=self.group)
        payload = torch.cat([a.reshape(-1).to("cpu", torch.int64) for a in arrays]) if arrays else torch.empty(0)
        if payload.numel():
            dist.broadcast(payload, 0, group=self.group)

    def recv(self) -> tuple[int, list[torch.Tensor]]:
        header = torch.empty(self.HEADER, dtype=torch.int64)
        dist.broadcast(header, 0, group=self.group)
        h = header.tolist()
        shapes = [h[2 + 3 * i + 1:2 + 3 * i + 1 + h[2 + 3 * i]] for i in range(h[1])]
        payload = torch.empty(sum(math.prod(s) for s in shapes), dtype=torch.int64)
        if payload.numel():
            dist.broadcast(payload, 0, group=self.group)
        arrays, at = [], 0
        for s in shapes:
            arrays.append(payload[at:at + math.prod(s)].view(s))
            at += math.prod(s)
        return h[0], arrays


class Children:
    """The ranks rank 0 started, watched by a thread: one ending before shutdown ends the whole job."""

    def __init__(self, procs: dict[int, mp.Process], errors: dict[int, multiprocessing.connection.Connection]):
        self.procs, self.errors = procs, errors
        self.closing = False
        threading.Thread(target=self._watch, name="moechat-ranks", daemon=True).start()

    def _watch(self) -> None:
        owner = {p.sentinel: r for r, p in self.procs.items()} | {c: r for r, c in self.errors.items()}
        ready = multiprocessing.connection.wait(list(owner))
        if not self.closing:
            self.fail(owner[ready[0]])

    def reason(self, rank: int) -> str:
        conn, proc = self.errors[rank], self.procs[rank]
        try:
            if conn.poll():
                return conn.recv()
        except (EOFError, OSError):
            pass
        return exit_reason(proc)

    def fail(self, rank: int) -> None:
        """Report rank's failure, end the other ranks, and end this process (its main thread may be stuck in a
        collective that will never complete)."""
        message = f"moechat: error: tensor-parallel rank {rank} failed: {self.reason(rank)}"
        self.terminate()
        print(message, file=sys.stderr, flush=True)
        os._exit(1)

    def wait_for_failure(self, timeout: float = 10.0) -> None:
        """Rank 0's collective failed: give the watcher time to name the rank that caused it (it ends the process
        then); returns when no rank has died within the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closing:
            time.sleep(0.05)

    def terminate(self) -> None:
        stop_processes(list(self.procs.values()))


class TPGroup:
    """This process's place in a tensor-parallel group."""

    def __init__(self, rank: int, world: int, local_rank: int, children: Children | None = None):
        self.rank, self.world, self.local_rank, self.children = rank, world, local_rank, children
        self.channel = StepChannel(dist.new_group(backend="gloo", timeout=IDLE_TIMEOUT))
        self.closed = False

    def place(self, device: torch.device) -> torch.device:
        """The device this rank computes on: GPU number local_rank, or the CPU, whose cores the ranks share."""
        if device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.world))
        return device

    @contextmanager
    def _collective(self):
        """A collective that fails (a rank gone) becomes one line naming this rank, after the watcher of the
        started ranks has had the chance to say which one ended."""
        try:
            yield
        except RuntimeError as e:
            if self.children is not None:
                self.children.wait_for_failure()
            raise MoechatError(f"tensor-parallel rank {self.rank}: a collective failed: {one_line(e)}") from None

    def all_reduce(self, x: torch.Tensor) -> None:
        with self._collective():
            dist.all_reduce(x)

    def min(self, n: int) -> int:
        t = torch.tensor([n], dtype=torch.int64)
        with self._collective():
            dist.all_reduce(t, op=dist.ReduceOp.MIN, group=self.channel.group)
        return int(t.item())

    def share_args(self, args: EngineArgs | None) -> EngineArgs:
        """Rank 0's engine arguments, on every rank."""
        box = [args]
        with self._collective():
            dist.broadcast_object_list(box, src=0, group=self.channel.group)
        return box[0]

    def send(self, kind: int, arrays: list[torch.Tensor]) -> None:
        with self._collective():
            self.channel.send(kind, arrays)

    def close(self) -> None:
        """Rank 0: tell the other ranks to stop and wait for the ones it started; every rank: leave the group."""
        if self.closed:
            return
        self.closed = True
        if self.children is not None:
            self.children.closing = True
        if self.rank == 0:
            try:
                self.channel.send(STOP, [])
            except RuntimeError:
                pass  # a rank already gone; the ones left are ended below
        if self.children is not None:
            for p in self.children.procs.values():
                p.join(10)
            self.children.terminate()
        dist.destroy_process_group()


def _backend() -> str:
    return "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"


def join(rank: int, world: int, local_rank: int, store: dist.Store | None = None,
         children: Children | None = None) -> TPGroup:
    """Join the group (env:// when no store is given) and build its step channel."""
    disable_multicast()
    dist.init_process_group(_backend(), store=store, rank=rank, world_size=world, timeout=COLLECTIVE_TIMEOUT)
    return TPGroup(rank, world, local_rank, children)


def start_tensor_parallel(args: EngineArgs) -> TPGroup | None:
    """Rank 0 of a tensor-parallel engine: start (or, under torchrun, join) the group and send every rank the
    engine arguments. None when the engine runs on one rank."""
    env = torchrun_env()
    if env and env[1] > 1:
        rank, world, local_rank = env
        if args.tensor_parallel not in (1, world):
            raise MoechatError(f"--tensor-parallel {args.tensor_parallel}: torchrun started {world} processes")
        if rank != 0:
            raise MoechatError(f"rank {rank} serves rank 0's steps; it does not run an engine of its own")
        group = join(rank, world, local_rank)
    elif args.tensor_parallel > 1:
        group = _spawn(args.tensor_parallel)
    else:
        return None
    atexit.register(group.close)  # however rank 0's command ends, the other ranks stop with it
    group.share_args(replace(args, tensor_parallel=group.world))
    return group


def _spawn(world: int) -> TPGroup:
    from moechat.engine.parallel_rank import spawned_rank  # that module builds engines, which import this one

    disable_multicast()
    store = dist.TCPStore("127.0.0.1", 0, world, True, timeout=COLLECTIVE_TIMEOUT, wait_for_workers=False)
    ctx = mp.get_context("spawn")
    procs, errors = {}, {}
    for r in range(1, world):
        receiver, sender = ctx.Pipe(duplex=False)
        procs[r] = ctx.Process(target=spawned_rank, args=(r, world, store.port, sender), name=f"moechat-rank-{r}",
                               daemon=True)
        procs[r].start()
        sender.close()
        errors[r] = receiver
    children = Children(procs, errors)
    try:
        group = join(0, world, 0, store, children)
    except RuntimeError as e:
        children.wait_for_failure()
        children.closing = True
        children.terminate()
        raise MoechatError(f"tensor-parallel: starting {world} ranks failed: {one_line(e)}") from None
    return group


def exit_reason(proc: mp.Process) -> str:
    """Why a child process ended, in a few words (waits briefly for it to end)."""
    proc.join(2)
    code = proc.exitcode
    if code is None:
        return "stopped responding"
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"


def stop_processes(procs: list[mp.Process]) -> None:
    """Terminate the live ones, then kill those still alive after 5 s."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()


def child_started() -> None:
    """First thing in a spawned rank or replica: it ends with its parent, and Ctrl-C is the parent's to handle."""
    exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def child_failed(conn, message) -> None:
    """A spawned rank or replica failed: tell the parent over conn if it is still there, and end at once."""
    try:
        conn.send(message)
    except OSError:
        pass  # the parent has gone: nobody to tell
    os._exit(1)


def exit_with_parent() -> None:
    """A spawned rank ends when the process that started it has gone, whatever it was waiting for."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="moechat-parent", daemon=True).start()
