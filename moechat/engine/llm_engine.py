"""LLMEngine: add requests, step the batch, collect outputs. Single-threaded; EngineWorker wraps it."""

from __future__ import annotations

import gc
import itertools
import time
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch

from moechat.engine.block_manager import BlockManager
from moechat.engine.checkpoint import load_model_weights
from moechat.engine.cuda_graphs import DecodeGraphs
from moechat.engine.distributed import TPGroup, start_tensor_parallel
from moechat.engine.kv_cache import KVPool, bytes_per_block
from moechat.engine.model import GptOss
from moechat.engine.model_runner import ModelRunner
from moechat.engine.parallel_runner import LeadGraphs, LeadRunner
from moechat.engine.sampling import SamplingParams, request_seed, sample_on_device
from moechat.engine.scheduler import ScheduledChunk, Scheduler
from moechat.engine.sequence import Sequence, Status
from moechat.engine.transfer import HostCopy
from moechat.errors import MoechatError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class EngineArgs:
    model: str = "synthetic:tiny"
    device: str | None = None  # None: cuda if available, else cpu
    dtype: str | None = None   # None: bfloat16 on cuda, float32 on cpu
    kv_cache_gb: float | None = None  # None: 90% of free GPU memory after loading, or 1 GB on cpu
    block_size: int = 16
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 8192
    max_model_len: int | None = None  # None: the model's context
    prefix_caching: bool = True
    cuda_graphs: bool = True  # decode steps replay captured graphs (CUDA with Triton kernels only)
    sliding_window_trim: bool = True  # sliding layers free the KV blocks their window has passed
    num_kv_blocks: int | None = None  # exact full-pool size in blocks (tests); overrides kv_cache_gb
    run_ahead: bool | None = None  # launch decode step N+1 before step N's tokens reach the host (None: with CUDA graphs)
    seed: int = 0  # synthetic weights
    tensor_parallel: int = 1  # ranks sharing each layer, one process (GPU) each; this process is rank 0
    data_parallel: int = 1  # independent engine replicas (batch jobs: parallel_data.py starts them)

    def resolved_device(self) -> torch.device:
        dev = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dev.startswith("cuda") and not torch.cuda.is_available():
            raise MoechatError(f"--device {dev}: CUDA is not available on this machine")
        try:
            return torch.device(dev)
        except RuntimeError:
            raise MoechatError(f"--device {dev}: not a device torch knows (try cpu or cuda)") from None

    def resolved_dtype(self, device: torch.device) -> torch.dtype:
        name = self.dtype or ("bfloat16" if device.type == "cuda" else "float32")
        if name not in DTYPES:
            raise MoechatError(f"--dtype {name}: choose one of {', '.join(DTYPES)}")
        return DTYPES[name]


@dataclass
class RequestOutput:
    request_id: int
    new_token_ids: list[int]
    finished: bool
    finish_reason: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    generated_tokens: int = 0
    ttft_s: float | None = None
    decode_tokens_per_s: float | None = None


@dataclass
class EngineStats:
    prefill_tokens: int = 0
    cached_prompt_tokens: int = 0
    decode_tokens: int = 0
    prefill_time: float = 0.0
    decode_time: float = 0.0
    steps: int = 0
    ttft_total: float = 0.0  # a running sum, not a list: a long-lived engine (the TUI's) must not grow
    first_tokens: int = 0


class LLMEngine:
    def __init__(self, args: EngineArgs, progress: Callable[[int, int], None] | None = None, group: TPGroup | None = None):
        """group: set on tensor-parallel ranks other than 0 (parallel_rank.py); rank 0 starts its group here."""
        if args.data_parallel > 1:
            raise MoechatError("an engine is one replica; parallel_data.py runs data-parallel replicas")
        self.args = args
        self.group = group or start_tensor_parallel(args)
        self.device = args.resolved_device()
        if self.group:
            self.device = self.group.place(self.device)
        self.dtype = args.resolved_dtype(self.device)
        t0 = time.perf_counter()
        tp = (self.group.rank, self.group.world) if self.group else None
        # under tensor parallelism, config is this rank's shard: its heads, kv heads and expert features
        self.config, weights = load_model_weights(args.model, self.device, self.dtype, args.seed, progress, tp)
        self.model = GptOss(self.config, weights, self.device, self.dtype, self.group.all_reduce if self.group else None)
        self.load_time = time.perf_counter() - t0
        self.max_model_len = min(args.max_model_len or self.config.max_position, self.config.max_position)
        num_blocks, num_swa = self._pool_sizes()
        if self.group:  # block ids are rank 0's: every rank's pools have the same size
            num_blocks, num_swa = self.group.min(num_blocks), self.group.min(num_swa)
        # each pool's last block is scratch space (padding rows of graph replays, trimmed table entries)
        self.kv = KVPool(self.config, num_blocks + 1, args.block_size, self.device, self.dtype,
                         num_swa + 1 if num_swa else 0)
        self.blocks = BlockManager(num_blocks, args.block_size, args.prefix_caching,
                                   self.config.sliding_window if num_swa else 0, num_swa)
        self.scheduler = Scheduler(self.blocks, args.max_num_seqs, args.max_num_batched_tokens)
        Graphs, Runner = DecodeGraphs, ModelRunner
        if self.group and self.group.rank == 0:  # rank 0 sends each step's inputs to the other ranks
            Graphs, Runner = partial(LeadGraphs, self.group), partial(LeadRunner, self.group)
        graphs = None
        if args.cuda_graphs and self.model.ops.triton:
            graphs = Graphs(self.model, self.kv, args.max_num_seqs, -(-self.max_model_len // args.block_size))
            graphs.capture()
        self.runner = Runner(self.model, self.kv, graphs)
        self.seqs: dict[int, Sequence] = {}
        self.ids = itertools.count()
        self.stats = EngineStats()
        self._rejected: list[RequestOutput] = []
        # launching decode step N+1 before step N's tokens reach the host needs the sampled ids on the device,
        # which tensor-parallel ranks other than 0 do not have
        self.run_ahead = (args.run_ahead if args.run_ahead is not None else graphs is not None) and not self.group
        self._ahead: tuple[list[ScheduledChunk], torch.Tensor] | None = None
        if self.device.type == "cuda" and not (self.group and self.group.rank):
            self.warmup()
        # the objects of loading (torch, triton, the tokenizer) live as long as the engine: keep them out of
        # the collector's full passes (0.11 s each on a 2-core CPU before, 0.1 ms after)
        gc.collect()
        gc.freeze()

    def warmup(self) -> None:
        """One prefill per power-of-two size (the kernels' tile and chunk choices change at powers of two),
        cold and on top of a cached prefix, so that Triton compiles now rather than in the middle of
        someone's request (decode is compiled by the graph capture)."""
        sizes = [16 << k for k in range(20) if 16 << k < self.args.max_num_batched_tokens]
        for n in sizes + [self.args.max_num_batched_tokens]:
            for prefix in (0, self.args.block_size):
                self.prompt_logits([0] * (prefix + n), cached=prefix)

    def prompt_logits(self, ids: list[int], cached: int = 0) -> torch.Tensor | None:
        """float32 logits after the last of `ids`, computed outside the scheduler (the blocks are freed after);
        the first `cached` tokens go first as a chunk of their own, as a cached prefix would. None when the
        context or the pool cannot hold the prompt."""
        seq = Sequence(-1, list(ids), SamplingParams(max_tokens=1))
        if len(ids) >= self.max_model_len or not self.blocks.allocate(seq, len(ids)):
            return None
        try:
            if cached:
                self.runner.run([ScheduledChunk(seq, 0, cached)])
            return self.runner.run([ScheduledChunk(seq, cached, len(ids) - cached)])[0]
        finally:
            self.blocks.release(seq)

    def _pool_sizes(self) -> tuple[int, int]:
        """(full-pool blocks, sliding-pool blocks) from the memory budget; 0 sliding blocks: no trimming."""
        a, cfg, bs = self.args, self.config, self.args.block_size
        n_sliding = sum(cfg.is_sliding(i) for i in range(cfg.num_layers))
        trim = a.sliding_window_trim and n_sliding and cfg.sliding_window + bs < self.max_model_len
        per_full = bytes_per_block(cfg, bs, self.dtype, cfg.num_layers - n_sliding if trim else cfg.num_layers)
        # the sliding pool holds, per sequence, its window and the window it keeps cached at its prompt's
        # end, plus one step's worth of new tokens
        num_swa = -(-(a.max_num_batched_tokens + a.max_num_seqs * 2 * (cfg.sliding_window + 2 * bs)) // bs) if trim else 0
        per_swa = bytes_per_block(cfg, bs, self.dtype, n_sliding)
        if a.num_kv_blocks is not None:
            return a.num_kv_blocks, num_swa
        # never more than max_num_seqs full-length sequences could use
        cap = per_full * a.max_num_seqs * -(-self.max_model_len // bs)
        if a.kv_cache_gb is not None:
            budget = int(a.kv_cache_gb * 2**30)
        elif self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            budget = int(free * 0.9) - 2 * 2**30
        else:
            budget = 2**30
        num_swa = min(num_swa, budget // 2 // per_swa) if trim else 0
        return max(1, min(budget - num_swa * per_swa, cap) // per_full), num_swa

    def close(self) -> None:
        """Stop the other tensor-parallel ranks (a one-rank engine holds nothing to release)."""
        if self.group:
            self.group.close()

    # --- requests -------------------------------------------------------------------------------
    def add_request(self, prompt_token_ids: list[int], params: SamplingParams) -> int:
        rid = next(self.ids)
        seq = Sequence(rid, list(prompt_token_ids), params, request_seed(params))
        self.seqs[rid] = seq
        error = self._check_fits(seq)
        if error:
            seq.status, seq.finish_reason, seq.error = Status.FINISHED, "error", error
            self._rejected.append(self._output(seq, []))
        else:
            self.scheduler.add(seq)
        return rid

    def _check_fits(self, seq: Sequence) -> str | None:
        if not seq.num_prompt:
            return "empty prompt"
        if seq.num_prompt >= self.max_model_len:
            return f"prompt has {seq.num_prompt} tokens; the context holds {self.max_model_len}"
        bad = [t for t in seq.tokens if not 0 <= t < self.config.vocab_size]  # only the prompt so far
        if bad:
            return f"token id {bad[0]} is outside the vocabulary"
        need = -(-min(seq.num_prompt + seq.params.max_tokens, self.max_model_len) // self.args.block_size)
        if need > self.blocks.num_blocks:
            return (f"request needs {need} KV blocks but the pool has {self.blocks.num_blocks}; "
                    f"raise --kv-cache-gb or lower max tokens")
        return None

    def abort(self, request_id: int) -> None:
        seq = self.seqs.get(request_id)
        if seq is not None and not seq.finished:
            self._finish(seq, "cancelled")
            self._rejected.append(self._output(seq, []))

    def has_unfinished(self) -> bool:
        return self.scheduler.has_work() or bool(self._rejected) or self._ahead is not None

    # --- the step -------------------------------------------------------------------------------
    def step(self) -> list[RequestOutput]:
        outputs, self._rejected = self._rejected, []
        t0 = time.perf_counter()
        if self._ahead is not None:  # launched last step; rows of sequences finished since then are dropped
            chunks, logits = self._ahead
            self._ahead = None
        else:
            chunks = self.scheduler.schedule()
            if not chunks:
                return outputs
            logits = self.runner.run(chunks)
        sampling = [c for c in chunks if c.samples]
        sampled = sample_on_device(logits, [c.seq.params for c in sampling], [c.seq.seed for c in sampling],
                                   [c.seq.num_output for c in sampling])
        host_tokens = HostCopy(sampled)
        ahead = self._plan_ahead(chunks)
        if ahead:  # the GPU runs the next decode step while the host handles this one's tokens
            self._ahead = (ahead, self.runner.run(ahead, sampled))
        tokens = host_tokens.tolist()
        chunks = [c for c in chunks if not c.seq.finished]
        sampling = [(c, tok) for c, tok in zip(sampling, tokens) if not c.seq.finished]
        dt = time.perf_counter() - t0
        now = time.perf_counter()
        # a decode chunk runs only the token sampled last step; everything else is prompt or recompute
        n_decode = sum(1 for c in chunks if c.length == 1 and c.seq.num_output and c.start == c.seq.length - 1)
        n_prefill = sum(c.length for c in chunks) - n_decode
        self.stats.steps += 1
        self.stats.prefill_tokens += n_prefill
        self.stats.decode_tokens += n_decode
        if n_prefill:
            self.stats.prefill_time += dt
        else:
            self.stats.decode_time += dt
        for c in chunks:
            c.seq.num_computed += c.length
            self.blocks.commit_full_blocks(c.seq)
            self.blocks.trim(c.seq)
        for c, tok in sampling:
            seq = c.seq
            seq.tokens.append(tok)
            if seq.first_token_time is None:
                seq.first_token_time = now
                self.stats.ttft_total += now - seq.arrival
                self.stats.first_tokens += 1
            reason = self._stop_reason(seq, tok)
            if reason:
                self._finish(seq, reason)
            outputs.append(self._output(seq, [tok]))
        return outputs

    def _plan_ahead(self, chunks: list[ScheduledChunk]) -> list[ScheduledChunk] | None:
        """The next decode step of these sequences, if it can be launched before this step's tokens are
        known: a pure decode step, nobody waiting to join, no sequence about to reach a length limit, and
        room in the pools. A sequence that stops on this step's token wastes its row of the next one."""
        if not self.run_ahead or self.scheduler.waiting or not chunks:
            return None
        for c in chunks:
            seq = c.seq
            if c.length != 1 or not c.samples or seq.finished or seq.num_output + 2 > seq.params.max_tokens \
                    or seq.length + 2 > self.max_model_len:
                return None
        if not all(self.blocks.allocate(c.seq, c.start + 2) for c in chunks):
            return None
        return [ScheduledChunk(c.seq, c.start + 1, 1, samples=True) for c in chunks]

    def _stop_reason(self, seq: Sequence, tok: int) -> str | None:
        if tok in seq.params.stop_token_ids:
            return "stop"
        if seq.num_output >= seq.params.max_tokens or seq.length >= self.max_model_len:
            return "length"
        return None

    def _finish(self, seq: Sequence, reason: str) -> None:
        self.scheduler.finish(seq, reason)
        seq.finish_time = time.perf_counter()
        self.stats.cached_prompt_tokens += seq.cached_tokens

    def _output(self, seq: Sequence, new: list[int]) -> RequestOutput:
        out = RequestOutput(seq.id, new, seq.finished, seq.finish_reason, seq.error)
        if seq.finished:
            out.prompt_tokens, out.cached_tokens, out.generated_tokens = seq.num_prompt, seq.cached_tokens, seq.num_output
            if seq.first_token_time is not None:
                out.ttft_s = seq.first_token_time - seq.arrival
                if seq.num_output > 1 and seq.finish_time:
                    out.decode_tokens_per_s = (seq.num_output - 1) / max(seq.finish_time - seq.first_token_time, 1e-9)
            del self.seqs[seq.id]
        return out

    # --- batch use --------------------------------------------------------------------------------
    def generate(self, prompts: list[list[int]], params: SamplingParams | list[SamplingParams],
                 on_output: Callable[[RequestOutput], None] | None = None) -> list[RequestOutput]:
        """Run every prompt to completion through continuous batching; results in input order, with
        each request's full output in new_token_ids."""
        plist = params if isinstance(params, list) else [params] * len(prompts)
        ids = [self.add_request(p, sp) for p, sp in zip(prompts, plist)]
        tokens: dict[int, list[int]] = {i: [] for i in ids}
        final: dict[int, RequestOutput] = {}
        while len(final) < len(ids):
            for out in self.step():
                tokens[out.request_id] += out.new_token_ids
                if on_output:
                    on_output(out)
                if out.finished:
                    final[out.request_id] = out
        for i in ids:
            final[i].new_token_ids = tokens[i]
        return [final[i] for i in ids]

    def snapshot(self) -> dict:
        s = self.stats
        prompt = s.prefill_tokens + s.cached_prompt_tokens
        return {
            "running": len(self.scheduler.running), "waiting": len(self.scheduler.waiting),
            "kv_blocks_used": self.blocks.num_used, "kv_blocks_total": self.blocks.num_blocks,
            "prefill_tokens": s.prefill_tokens, "cached_prompt_tokens": s.cached_prompt_tokens,
            "prefix_hit_rate": s.cached_prompt_tokens / prompt if prompt else 0.0,
            "prefill_tokens_per_s": s.prefill_tokens / s.prefill_time if s.prefill_time else 0.0,
            "decode_tokens_per_s": s.decode_tokens / s.decode_time if s.decode_time else 0.0,
            "mean_ttft_s": s.ttft_total / s.first_tokens if s.first_tokens else None,
            "preemptions": self.scheduler.num_preemptions,
        }
