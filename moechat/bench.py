"""moechat bench: end-to-end speed of the engine (decode, time to first token, batch throughput, getp, chat
prefix reuse) against the decode roofline. Prints a table and writes JSON."""

from __future__ import annotations

import json
import statistics
import time

import torch

from moechat.cli import engine_args
from moechat.engine.getp import read_prompts, request_params
from moechat.engine.harmony import Conversation, Message, render_prompt
from moechat.engine.llm_engine import LLMEngine
from moechat.engine.sampling import SamplingParams
from moechat.engine.tokenizer import Tokenizer
from moechat.errors import MoechatError
from moechat.files import check_writable, write_atomic

FILLER = ("The history of science is full of surprising turns, quiet persistence and sudden insight. "
          "Each generation builds on the last, testing old ideas against new evidence. ")


def prompt_of(tok: Tokenizer, n: int, salt: int) -> list[int]:
    """n tokens of text; a different salt gives a prompt that shares no cache block with others."""
    ids = tok.encode(f"[{salt}] " + FILLER * (n // 20 + 2))
    return ids[:n]


def decode_bytes_per_token(engine: LLMEngine) -> int:
    """Bytes a batch-1 decode step must read: attention and unembedding weights, the 4 routed experts per layer."""
    w, cfg = engine.model.w, engine.config
    dense = w["unembedding"].numel() * w["unembedding"].element_size()
    experts = 0
    for i in range(cfg.num_layers):
        for k in ("qkv_w", "o_w", "router_w"):
            dense += w[f"layers.{i}.{k}"].numel() * w[f"layers.{i}.{k}"].element_size()
        for k in ("w1_blocks", "w1_scales", "w2_blocks", "w2_scales", "w1", "w2"):
            t = w.get(f"layers.{i}.{k}")
            if t is not None:
                experts += t.numel() * t.element_size() * cfg.experts_per_token // cfg.num_experts
    return dense + experts


def graph_replay_ms(engine: LLMEngine, batch: int = 1) -> float | None:
    """GPU time of one decode step of `batch` rows replayed from its CUDA graph (the inputs left by the last
    step of that size)."""
    if engine.group:  # the graph's all-reduces would wait forever for ranks that do not replay it
        return None
    graphs = engine.runner.graphs
    if graphs is None or batch not in graphs.graphs:
        return None
    g, _ = graphs.graphs[batch]
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    g.replay()
    start.record()
    for _ in range(50):
        g.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 50


def run_one(engine: LLMEngine, prompt: list[int], max_tokens: int):
    return engine.generate([prompt], SamplingParams(temperature=0.0, max_tokens=max_tokens, stop_token_ids=()))[0]


TTFT_SHOTS = 3  # one shot's time to first token moves by ~10 ms from run to run (host time of the eager prefill)


def ttft_shots(engine: LLMEngine, tok: Tokenizer, n: int, shots: int) -> tuple[list[float], list[float]]:
    """Times to first token of `shots` n-token prompts, cold (prompts sharing no cached block) and cached (each
    prompt again)."""
    cold, cached = [], []
    for shot in range(shots):
        p = prompt_of(tok, n, n + 7919 * shot)
        cold.append(run_one(engine, p, 1).ttft_s)
        cached.append(run_one(engine, p, 1).ttft_s)
    return cold, cached


def ttft_medians(engine: LLMEngine, tok: Tokenizer, n: int, shots: int = TTFT_SHOTS) -> tuple[float, float]:
    """The medians of ttft_shots: (cold, cached)."""
    cold, cached = ttft_shots(engine, tok, n, shots)
    return statistics.median(cold), statistics.median(cached)


def throughput(engine: LLMEngine, prompts: list[list[int]], params: SamplingParams | list[SamplingParams]) -> float:
    """Generated tokens per second of wall time for these requests."""
    t = time.perf_counter()
    outs = engine.generate(prompts, params)
    return sum(len(o.new_token_ids) for o in outs) / (time.perf_counter() - t)


def chat_ttfts(engine: LLMEngine, tok: Tokenizer, turns: int, words: int) -> list[float]:
    conv = Conversation([], date="2026-01-01")
    out = []
    for t in range(turns):
        conv.messages.append(Message("user", f"Turn {t}: " + " ".join(FILLER.split()[: words // 2]) * 2))
        res = run_one(engine, render_prompt(tok, conv), 8)
        out.append(res.ttft_s)
        conv.messages.append(Message("assistant", f"Answer {t}: " + FILLER))
    return out


def getp_workload(a, tok: Tokenizer) -> tuple[list[list[int]], list[SamplingParams]]:
    prompts = [tok.encode(p) for p in read_prompts(a.getp)[: a.limit]]
    return prompts, request_params(prompts, a.n)


def getp_run(a) -> dict:
    return {"file": a.getp, "limit": a.limit, "n": a.n}


def run_bench(a) -> dict:
    tok = Tokenizer()
    engine = LLMEngine(engine_args(a))
    r: dict = {"model": a.model, "device": torch.cuda.get_device_name() if engine.device.type == "cuda" else "cpu",
               "dtype": str(engine.dtype).replace("torch.", ""), "tensor_parallel": a.tensor_parallel,
               "load_s": engine.load_time}
    small = a.quick
    n1k, n8k, new = (128, 512, 32) if small else (1024, 8192, 256)
    run_one(engine, prompt_of(tok, 64, -1), 4)  # warm-up: kernels compiled, allocator primed
    res = run_one(engine, prompt_of(tok, n1k, 0), new)
    r["decode_tok_s_1"] = res.decode_tokens_per_s
    gpu_ms = graph_replay_ms(engine)
    if gpu_ms:  # what the GPU spends per decode token; the rest of the step is host time it waits on
        r["decode_gpu_ms_per_token"] = gpu_ms
        r["decode_host_gap_ms_per_token"] = 1000 / res.decode_tokens_per_s - gpu_ms
    if a.decode_only:
        return finish(engine, r)
    for n, key in ((n1k, "1k"), (n8k, "8k")):
        r[f"ttft_{key}_cold_s"], r[f"ttft_{key}_cached_s"] = ttft_medians(engine, tok, n)
    for b in (8, 256):
        prompts = [prompt_of(tok, 128, 1000 + b * 1000 + i) for i in range(b if not small else min(b, 16))]
        before = (engine.stats.decode_tokens, engine.stats.decode_time, engine.stats.prefill_time)
        r[f"tok_s_batch_{len(prompts)}"] = throughput(
            engine, prompts, SamplingParams(temperature=0.0, max_tokens=new, stop_token_ids=()))
        decode_s = (engine.stats.decode_time - before[1]) / max(engine.stats.decode_tokens - before[0], 1) * len(prompts)
        r[f"prefill_s_batch_{len(prompts)}"] = engine.stats.prefill_time - before[2]  # host time of prefill steps
        gpu_ms = graph_replay_ms(engine, len(prompts))
        if gpu_ms:  # wall time of a decode step at this batch size against its GPU time
            r[f"decode_step_ms_batch_{len(prompts)}"] = 1000 * decode_s
            r[f"decode_gpu_ms_batch_{len(prompts)}"] = gpu_ms
    if a.chat_turns:
        r["chat_ttft_prefix_on_s"] = chat_ttfts(engine, tok, a.chat_turns, 200)
        engine.blocks.prefix_caching = False
        r["chat_ttft_prefix_off_s"] = chat_ttfts(engine, tok, a.chat_turns, 200)
        engine.blocks.prefix_caching = True
    if a.getp:
        r["getp_tok_s"] = throughput(engine, *getp_workload(a, tok))
        r["getp"] = getp_run(a)
    return finish(engine, r)


def finish(engine: LLMEngine, r: dict) -> dict:
    bw = None
    if engine.device.type == "cuda":
        from moechat.kernels.bench import copy_bandwidth  # triton is imported only where a GPU is

        bw = copy_bandwidth()
    if bw:
        r["copy_bandwidth_GBs"] = bw / 1e9
        r["roofline_decode_tok_s_1"] = bw / decode_bytes_per_token(engine)
        r["decode_pct_of_roofline"] = 100 * r["decode_tok_s_1"] / r["roofline_decode_tok_s_1"]
    r["engine"] = engine.snapshot()
    engine.close()
    return r


def run_replicas(a) -> dict:
    """--data-parallel: getp throughput of the replicas together (the other measurements are one engine's)."""
    from moechat.engine.parallel_data import generate_replicas

    if not a.getp:
        raise MoechatError("bench --data-parallel measures getp throughput: pass --getp FILE")
    prompts, params = getp_workload(a, Tokenizer())
    run = generate_replicas(engine_args(a), prompts, params)
    return {"model": a.model, "data_parallel": a.data_parallel, "tensor_parallel": a.tensor_parallel,
            "load_s": run.load_s, "getp_tok_s": sum(len(o.new_token_ids) for o in run.outputs) / run.wall_s,
            "getp": getp_run(a)}


def format_table(r: dict) -> str:
    rows = [(k, v) for k, v in r.items() if not isinstance(v, dict)]
    lines = [f"{k:28s} " + (f"{v:,.4g}" if isinstance(v, float) else
                             ", ".join(f"{x:.3f}" for x in v) if isinstance(v, list) else str(v)) for k, v in rows]
    return "\n".join(lines)


def main(a) -> int:
    if a.kernels:
        if not torch.cuda.is_available():
            raise MoechatError("bench --kernels times Triton kernels on a CUDA GPU; this machine has none")
        from moechat.kernels.bench import run_kernel_bench

        print(run_kernel_bench(a))
        return 0
    if a.json:
        check_writable(a.json)  # before the minutes of measuring, not after
    r = run_bench(a) if a.data_parallel == 1 else run_replicas(a)
    print(format_table(r))
    if a.json:
        write_atomic(a.json, json.dumps(r, indent=2) + "\n")
    return 0
