"""The GPU timeline of real decode steps (engine.generate, synthetic:gpt-oss-20b): per step, the time the GPU is
busy inside the decode graph, busy outside it (copies, sampling) and idle, from the profiler's device events.
    PYTHONPATH=$PWD python3 bench/profile_steps.py [--batch 1 8] [--tokens 48]
The graph's kernels are the Triton kernels and cuBLAS's (nvjet); anything else counts as outside."""

from __future__ import annotations

import argparse
from collections import defaultdict

import torch

from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams


def in_graph(name: str) -> bool:
    return name.startswith("_") or name.startswith("nvjet")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="synthetic:gpt-oss-20b")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    p.add_argument("--tokens", type=int, default=48)
    a = p.parse_args()
    engine = LLMEngine(EngineArgs(model=a.model, dtype="bfloat16", kv_cache_gb=8))
    params = SamplingParams(temperature=0.0, max_tokens=a.tokens, stop_token_ids=())
    for b in a.batch:
        prompts = [[100 + (i * 7 + j) % 5000 for j in range(1024)] for i in range(b)]
        engine.generate(prompts, params)  # warm-up at this size
        prompts = [[200 + (i * 11 + j) % 5000 for j in range(1024)] for i in range(b)]
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            engine.generate(prompts, params)
            torch.cuda.synchronize()
        events = sorted((e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA),
                        key=lambda e: e.time_range.start)
        # decode steps: from the first unembedding GEMM after the prefill's (the second one) to the last
        unembed = [i for i, e in enumerate(events) if e.name.startswith("nvjet") and e.time_range.elapsed_us() > 300]
        if len(unembed) < 3:
            print(f"batch {b}: too few decode steps in the trace")
            continue
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
        print(f"batch {b}: {steps} decode steps, per step {span / steps:.1f} us: in the graph {busy_in / steps:.1f}"
              f" us busy, outside {busy_out / steps:.1f} us busy, idle {(span - busy_in - busy_out) / steps:.1f} us")
        for name, t in sorted(outside.items(), key=lambda kv: -kv[1])[:8]:
            print(f"   {t / steps:7.1f} us  {name}")
    engine.close()


if __name__ == "__main__":
    main()
