"""Per-kernel GPU time of one batch-1 decode step replayed from its CUDA graph (synthetic:gpt-oss-20b), or of
one cold prefill of N tokens (--prefill N):
    PYTHONPATH=$PWD python3 bench/profile_decode.py [--model synthetic:gpt-oss-20b] [--prefill 8192]
Prints kernels sorted by time per step, their count, and the step's wall time on the GPU."""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch

from moechat.bench import graph_replay_ms
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="synthetic:gpt-oss-20b")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--prefill", type=int, default=0, help="profile cold prefills of this many tokens instead")
    p.add_argument("--batch", type=int, default=1, help="decode batch size (a captured graph's size)")
    p.add_argument("--trace", help="also write a Chrome trace (host and GPU) of the last step here")
    a = p.parse_args()
    engine = LLMEngine(EngineArgs(model=a.model, dtype="bfloat16", kv_cache_gb=8))
    prompts = [list(range(100 + i, 1124 + i)) for i in range(a.batch)]
    engine.generate(prompts, SamplingParams(temperature=0.0, max_tokens=32, stop_token_ids=()))
    if a.prefill:
        prompt = [100 + i % 50000 for i in range(a.prefill)]

        def step():
            engine.prompt_logits(prompt)
    else:
        step = engine.runner.graphs.graphs[a.batch][0].replay
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
        torch.cuda.synchronize()
    wall_us = (time.perf_counter() - t0) / a.steps * 1e6
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(a.steps):
            step()
        torch.cuda.synchronize()
    if a.trace:
        acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
        with torch.profiler.profile(activities=acts) as traced:
            step()
            torch.cuda.synchronize()
        traced.export_chrome_trace(a.trace)
    per: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            t = getattr(e, "device_time", None) or getattr(e, "cuda_time", 0.0)
            per[e.name][0] += t / a.steps
            per[e.name][1] += 1 / a.steps
    total = sum(v[0] for v in per.values())
    n = sum(v[1] for v in per.values())
    print(f"kernels per step {n:.0f}, summed kernel time {total:.0f} us, wall time per step {wall_us:.0f} us "
          f"(synchronized)")
    for name, (us, cnt) in sorted(per.items(), key=lambda kv: -kv[1][0])[:25]:
        print(f"{us:8.1f} us {cnt:5.0f}x {us / max(cnt, 1):7.2f} us/call  {name[:90]}")
    if not a.prefill:
        print(f"graph replay {graph_replay_ms(engine, a.batch) * 1e3:.0f} us per step")


if __name__ == "__main__":
    main()
