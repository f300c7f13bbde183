"""Where the host spends a decode step (synthetic:gpt-oss-20b): wall time per step against the graph's GPU
time, and cProfile's top functions by own time, so a call that waits on the GPU shows up by name.
    PYTHONPATH=$PWD python3 bench/profile_host.py [--batch 1 256] [--tokens 64]"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from moechat.bench import graph_replay_ms
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.sampling import SamplingParams


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="synthetic:gpt-oss-20b")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 256])
    p.add_argument("--tokens", type=int, default=64)
    a = p.parse_args()
    engine = LLMEngine(EngineArgs(model=a.model, dtype="bfloat16", kv_cache_gb=16))
    params = SamplingParams(temperature=0.0, max_tokens=a.tokens, stop_token_ids=())
    for b in a.batch:
        prompts = [[100 + (i * 7 + j) % 5000 for j in range(128)] for i in range(b)]
        engine.generate(prompts, params)  # warm-up at this size
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


if __name__ == "__main__":
    main()
