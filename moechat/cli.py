"""moechat's command line: the chat app (no subcommand), generate, getp, bench, export, sessions.

Headless commands never import Textual: the app's modules are imported only when the app runs.
"""

from __future__ import annotations

import argparse
import sys
import time

from moechat.errors import MoechatError
from moechat.files import check_writable, write_atomic

DEFAULT_MODEL = "openai/gpt-oss-20b"


def add_engine_options(p: argparse.ArgumentParser, model_default: str | None = DEFAULT_MODEL) -> None:
    g = p.add_argument_group("engine")
    g.add_argument("--model", default=model_default,
                   help="checkpoint directory (Hugging Face or original/ layout), a Hugging Face repo id found in the "
                        "local cache, or synthetic:tiny|gpt-oss-20b|gpt-oss-120b (random weights)"
                        + (f" (default: {model_default})" if model_default else ""))
    g.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available, else cpu)")
    g.add_argument("--dtype", default=None, choices=["float32", "bfloat16", "float16"],
                   help="activation and non-expert weight dtype (default: bfloat16 on cuda, float32 on cpu)")
    g.add_argument("--kv-cache-gb", type=float, default=None,
                   help="KV cache size in GB (default: 90%% of free GPU memory after loading; 1 GB on cpu)")


def add_parallel_options(p: argparse.ArgumentParser, data: bool) -> None:
    g = p.add_argument_group("several GPUs")
    g.add_argument("--tensor-parallel", type=int, default=1, metavar="N",
                   help="split every layer across N GPUs, one process each, started by moechat (or by torchrun) "
                        "(default: 1)")
    if data:
        g.add_argument("--data-parallel", type=int, default=1, metavar="N",
                       help="N independent engine replicas (each on --tensor-parallel GPUs), requests split among "
                            "them (default: 1)")


def engine_args(a: argparse.Namespace, **overrides):
    from moechat.engine.llm_engine import EngineArgs

    tp, dp = getattr(a, "tensor_parallel", 1), getattr(a, "data_parallel", 1)
    if tp < 1 or dp < 1:
        raise MoechatError("--tensor-parallel and --data-parallel take a number of GPUs, at least 1")
    return EngineArgs(model=a.model, device=a.device, dtype=a.dtype, kv_cache_gb=a.kv_cache_gb, tensor_parallel=tp,
                      data_parallel=dp, **overrides)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="moechat", description="Run OpenAI's gpt-oss models locally: a terminal chat app "
                                "(no subcommand), one-shot generation, and batch jobs.")
    add_engine_options(p, model_default=None)
    p.add_argument("--tensor-parallel", type=int, default=None, metavar="N",
                   help="the chat app's engine split across N GPUs (default: the saved choice, else 1)")
    p.add_argument("--db", default=None, help="chat database file (default: moechat.db in the user data directory)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("generate", help="stream one completion to stdout",
                       description="Stream one completion to stdout. By default PROMPT is a user message in the harmony "
                                   "chat format and only the final answer is printed.")
    g.add_argument("prompt", help="the prompt (a user message, or plain text with --raw)")
    add_engine_options(g)
    g.add_argument("--raw", action="store_true", help="complete PROMPT as plain text, no chat format")
    g.add_argument("--system", default="", help="developer instructions for the chat (default: none)")
    g.add_argument("--reasoning", default="medium", choices=["low", "medium", "high"], help="reasoning effort (default: medium)")
    g.add_argument("--show-reasoning", action="store_true", help="also print the reasoning (analysis channel), marked apart")
    g.add_argument("--max-tokens", type=int, default=1024, help="most tokens to generate (default: 1024)")
    g.add_argument("--temperature", type=float, default=1.0, help="0 for greedy (default: 1.0)")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default: 1.0, off)")
    g.add_argument("--top-k", type=int, default=0, help="keep the k likeliest tokens (default: 0, off)")
    g.add_argument("--seed", type=int, default=None, help="sampling seed (default: random)")
    add_parallel_options(g, data=False)

    b = sub.add_parser("getp", help="batch mode: token ids for every prompt of a file",
                       description="Read IN (first line N, then N prompt lines), greedy-complete each prompt as raw text "
                                   "and write OUT: one line per request with the generated token ids (stop token "
                                   "included), in input order. Empty prompt lines are an error.")
    b.add_argument("input", metavar="IN")
    b.add_argument("output", metavar="OUT")
    add_engine_options(b)
    b.add_argument("-n", "--max-positions", type=int, default=1024,
                   help="a request stops when prompt plus generated tokens reach this many (default: 1024)")
    b.add_argument("--limit", type=int, default=None, help="only the first N requests")
    b.add_argument("--verify", metavar="REF", default=None, help="compare with a reference output file; exit 1 on mismatch")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--max-num-seqs", type=int, default=256, help="most sequences batched together (default: 256)")
    add_parallel_options(b, data=True)

    m = sub.add_parser("bench", help="measure decode speed, time to first token, throughput and kernels",
                       description="End-to-end speed of the engine on one model; --kernels times each kernel instead.")
    add_engine_options(m)
    m.add_argument("--kernels", action="store_true", help="time each Triton kernel against its roofline (CUDA only)")
    m.add_argument("--sweep", choices=["moe", "attention", "all"], default=None, help="with --kernels: profile tile configurations")
    m.add_argument("--quick", action="store_true", help="small sizes (a smoke test, e.g. on CPU)")
    m.add_argument("--decode-only", action="store_true", help="only single-stream decode and its roofline")
    m.add_argument("--chat-turns", type=int, default=10, help="turns of the prefix-reuse chat benchmark (default: 10; 0 skips)")
    m.add_argument("--getp", metavar="FILE", default=None, help="also time getp on this input file")
    m.add_argument("--limit", type=int, default=1024, help="getp: first N requests (default: 1024)")
    m.add_argument("-n", type=int, default=512, help="getp: max positions per request (default: 512)")
    m.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    add_parallel_options(m, data=True)

    e = sub.add_parser("export", help="write a chat session as Markdown or JSON")
    e.add_argument("session_id")
    e.add_argument("--format", choices=["md", "json"], default="md", help="(default: md)")
    e.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    e.add_argument("--db", default=None, help="chat database file")
    s = sub.add_parser("sessions", help="list chat sessions")
    s.add_argument("--db", default=None, help="chat database file")
    return p


def cmd_generate(a: argparse.Namespace) -> int:
    from moechat.engine.harmony import Conversation, Message
    from moechat.engine.sampling import SamplingParams
    from moechat.engine.worker import EngineWorker

    try:
        params = SamplingParams(temperature=a.temperature, top_p=a.top_p, top_k=a.top_k, seed=a.seed, max_tokens=a.max_tokens)
    except ValueError as e:
        raise MoechatError(str(e)) from None
    worker = EngineWorker(engine_args(a, max_num_seqs=1)).start()
    try:
        worker.wait_ready()
        if a.raw:
            handle = worker.submit_tokens(worker.tokenizer.encode(a.prompt), params)
        else:
            conv = Conversation([Message("user", a.prompt)], instructions=a.system, reasoning=a.reasoning)
            handle = worker.submit_chat(conv, params)
        out, shown = sys.stdout, None
        try:
            for d in handle:
                if not d.text:
                    continue
                channel = d.channel or "final"
                if channel != "final" and not a.show_reasoning:
                    continue
                if a.show_reasoning and not a.raw and channel != shown:
                    out.write(("\n" if shown else "") + ("[reasoning]\n" if channel == "analysis" else f"[{channel}]\n"))
                    shown = channel
                out.write(d.text)
                out.flush()
        except KeyboardInterrupt:
            handle.cancel()
        out.write("\n")
        if handle.finish and handle.finish.reason == "error":
            raise MoechatError(handle.finish.error or "generation failed")
    finally:
        worker.shutdown()
    return 0


class Progress:
    """A one-line progress bar on stderr; silent when stderr is not a terminal."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.tokens = total, 0, 0
        self.enabled = enabled and sys.stderr.isatty()
        self.start = self.last = time.perf_counter()

    def update(self, finished: int, tokens: int) -> None:
        self.done += finished
        self.tokens += tokens
        now = time.perf_counter()
        if self.enabled and (now - self.last > 0.2 or self.done == self.total):
            self.last = now
            width = 30
            fill = int(width * self.done / max(self.total, 1))
            rate = self.tokens / max(now - self.start, 1e-9)
            sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} requests, {rate:,.0f} tok/s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def cmd_getp(a: argparse.Namespace) -> int:
    from moechat.engine import getp
    from moechat.engine.llm_engine import LLMEngine
    from moechat.engine.tokenizer import Tokenizer

    prompts = getp.read_prompts(a.input)
    if a.limit is not None:
        if a.limit < 0:
            raise MoechatError("--limit must be 0 or more")
        prompts = prompts[: a.limit]
    check_writable(a.output)
    reference = getp.read_reference(a.verify) if a.verify else None
    if a.max_positions < 2:
        raise MoechatError("-n/--max-positions must be at least 2")
    tok = Tokenizer()
    encoded = [tok.encode(p) for p in prompts]
    for i, ids in enumerate(encoded):
        if len(ids) >= a.max_positions:
            raise MoechatError(f"{a.input}:{i + 2}: prompt has {len(ids)} tokens, -n allows {a.max_positions} positions")
    args = engine_args(a, max_num_seqs=a.max_num_seqs, max_model_len=a.max_positions)
    params = getp.request_params(encoded, a.max_positions)
    peak = ""
    if args.data_parallel > 1:  # replicas in their own processes; a prompt too long for the context fails there
        from moechat.engine.parallel_data import generate_replicas

        bar = Progress(len(encoded), not a.quiet)
        run = generate_replicas(args, encoded, params, on_finished=lambda n: bar.update(1, n))
        outputs, wall, load_time = run.outputs, run.wall_s, run.load_s
    else:
        engine = LLMEngine(args)
        for i, ids in enumerate(encoded):
            if len(ids) >= engine.max_model_len:
                raise MoechatError(f"{a.input}:{i + 2}: prompt has {len(ids)} tokens; the model's context holds {engine.max_model_len}")
        bar = Progress(len(encoded), not a.quiet)
        t0 = time.perf_counter()
        outputs = engine.generate(encoded, params, on_output=lambda o: bar.update(int(o.finished), len(o.new_token_ids)))
        wall, load_time = time.perf_counter() - t0, engine.load_time
        if engine.device.type == "cuda":
            import torch

            peak = f", peak GPU memory {torch.cuda.max_memory_allocated(engine.device) / 2**30:.1f} GiB"
        engine.close()
    bar.close()
    failed = [(i, o.error) for i, o in enumerate(outputs) if o.finish_reason == "error"]
    if failed:
        raise MoechatError(f"{a.input}:{failed[0][0] + 2}: {failed[0][1]}")
    tokens = [o.new_token_ids for o in outputs]
    write_atomic(a.output, getp.format_output(tokens))
    generated = sum(len(t) for t in tokens)
    print(f"requests: {len(tokens)}  generated tokens: {generated}  wall: {wall:.2f} s  "
          f"throughput: {generated / max(wall, 1e-9):,.1f} tokens/s  (load {load_time:.1f} s{peak})")
    if reference is not None:
        v = getp.verify(tokens, reference)
        for m in v.mismatches[:20]:
            print(f"mismatch: {m}")
        print(f"verify: {v.matched}/{v.total} requests match {a.verify}")
        return 0 if not v.mismatches else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    if a.command in ("generate", "getp", "bench"):
        from moechat.engine.distributed import disable_multicast, torchrun_env

        disable_multicast()
        env = torchrun_env()
        if env and env[0] != 0:  # torchrun started this rank: it serves rank 0's steps
            from moechat.engine.parallel_rank import torchrun_rank

            return torchrun_rank()
    try:
        if a.command == "generate":
            return cmd_generate(a)
        if a.command == "getp":
            return cmd_getp(a)
        if a.command == "bench":
            from moechat.bench import main as bench_main

            return bench_main(a)
        from moechat.tui import commands  # the app's entry points import Textual lazily

        if a.command == "export":
            return commands.export_command(a.session_id, a.format, a.output, a.db)
        if a.command == "sessions":
            return commands.sessions_command(a.db)
        if a.tensor_parallel is not None and a.tensor_parallel < 1:
            raise MoechatError("--tensor-parallel takes a number of GPUs, at least 1")
        return commands.run_app(a.model, a.device, a.dtype, a.kv_cache_gb, a.db, a.tensor_parallel)
    except MoechatError as e:
        print(f"moechat: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("moechat: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
