"""TTFT of one prompt, cold then cached, repeated (synthetic:gpt-oss-20b), to tell a change from run-to-run noise:
    PYTHONPATH=$PWD python3 bench/ttft_repeat.py [--tokens 1024] [--reps 5]"""

from __future__ import annotations

import argparse

from moechat.bench import prompt_of, run_one, ttft_shots
from moechat.engine.llm_engine import EngineArgs, LLMEngine
from moechat.engine.tokenizer import Tokenizer


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=1024)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    tok = Tokenizer()
    engine = LLMEngine(EngineArgs(model="synthetic:gpt-oss-20b", dtype="bfloat16", kv_cache_gb=8))
    run_one(engine, prompt_of(tok, 64, -1), 4)  # warm-up, as moechat bench does
    for rep, (cold, cached) in enumerate(zip(*ttft_shots(engine, tok, a.tokens, a.reps))):
        print(f"rep {rep + 1}/{a.reps}: ttft {a.tokens} cold {1000 * cold:.1f} ms, cached {1000 * cached:.1f} ms")


if __name__ == "__main__":
    main()
