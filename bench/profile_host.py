"""Where the host spends a decode step (synthetic:gpt-oss-20b): wall time per step against the graph's GPU
time, and cProfile's top functions by own time, so a call that waits on the GPU shows up by name. --timeline:
instead, the GPU's side of real decode steps from the profiler's device events: per step, the time busy in the
decode graph's kernels (Triton's and cuBLAS's), busy outside them (copies, sampling, torch ops), and idle.
    PYTHONPATH=$PWD python3 bench/profile_host.py [--batch 1 256] [--tokens 64] [--timeline]"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections import defaultdict

import torch

from moechat.bench import graph_replay_ms
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="synthetic:gpt-oss-20b")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 256])
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--timeline", action="store_true", help="the GPU timeline instead of the host profile")
    a = p.parse_args()
    engine = LLMEngine(EngineArgs(model=a.model, dtype="bfloat16", kv_cache_gb=16))
    params = SamplingParams(temperature=0.0, max_tokens=a.tokens, stop_token_ids=())
    for b in a.batch:
        prompts = [[100 + (i * 7 + j) % 5000 for j in range(128)] for i in range(b)]
        engine.generate(prompts, params)  # warm-up at this size
        if a.timeline:
            timeline(engine, [[200 + (i * 11 + j) % 5000 for j in range(128)] for i in range(b)], params)
            continue
        before = engine.stats.decode_time, engine.stats.decode_tokens
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        engine.generate(prompts, params)
        prof.disable()
        wall = time.perf_counter() - t
        steps = (engine.stats.decode_tokens - before[1]) / b
        print(f"batch {b}: {wall * 1e3:.1f} ms for {a.tokens} tokens ({wall * 1e3 / a.tokens:.2f} ms per step "
              f"incl. prefill), step() up to the token read {(engine.stats.decode_time - before[0]) * 1e3 / steps:.2f}"
              f" ms per decode step, graph replay {graph_replay_ms(engine, b) or 0:.2f} ms")
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def in_graph(name: str) -> bool:
    return name.startswith("_") or name.startswith("nvjet")


def timeline(engine: LLMEngine, prompts: list[list[int]], params: SamplingParams) -> None:
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        engine.generate(prompts, params)
        torch.cuda.synchronize()
    events = sorted((e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA),
                    key=lambda e: e.time_range.start)
    # decode steps: from the first unembedding GEMM after the prefill's (the second one) to the last
    unembed = [i for i, e in enumerate(events) if e.name.startswith("nvjet") and e.time_range.elapsed_us() > 300]
    if len(unembed) < 3:
        print(f"batch {len(prompts)}: too few decode steps in the trace")
        return
    lo, hi = unembed[1] + 1, unembed[-1] + 1
    steps = len(unembed) - 2
    busy_in = busy_out = 0.0
    outside: dict[str, float] = defaultdict(float)
    for e in events[lo:hi]:
        t = e.time_range.elapsed_us()
        if in_graph(e.name):
            busy_in += t
        else:
            busy_out += t
            outside[e.name[:90]] += t
    span = events[hi - 1].time_range.end - events[lo].time_range.start
    print(f"batch {len(prompts)}: {steps} decode steps, per step {span / steps:.1f} us: in the graph "
          f"{busy_in / steps:.1f} us busy, outside {busy_out / steps:.1f} us busy, "
          f"idle {(span - busy_in - busy_out) / steps:.1f} us")
    for name, t in sorted(outside.items(), key=lambda kv: -kv[1])[:8]:
        print(f"   {t / steps:7.1f} us  {name}")


if __name__ == "__main__":
    main()
