"""Kernel benchmark on gpt-oss-20b shapes: time, achieved rate and % of roofline for each Triton kernel.

    python -m moechat.kernels.bench [--sweep moe|attention|all]   (moechat bench --kernels: run_kernel_bench)

Roofline = max(bytes that must move / measured copy bandwidth, FLOPs / measured bf16 matmul rate).
Kernels are timed inside CUDA graphs (as the engine's decode runs them), cycling over several layers' weights
or caches so that nothing is served from L2 that a real step would not find there.
--sweep also profiles each MoE and attention tile configuration per kernel (torch.profiler) to pick tiles.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import torch
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from moechat.kernels import attention_triton, linear_triton, moe_triton, norm_triton, rope_triton
from moechat.kernels.attention import AttentionBatch
from moechat.kernels.moe import Routing
from moechat.kernels.rope import rope_tables, yarn_inv_freq_and_scale

# synthetic:gpt-oss-20b (the kernels layer does not import the engine's presets)
HIDDEN, INTER, EXPERTS, TOP_K, HEADS, KV_HEADS, HEAD_DIM, WINDOW, PAGE = 2880, 2880, 32, 4, 64, 8, 64, 128, 16
DECODE_SIZES = (1, 8, 64, 256)
PREFILL_SIZES = (1024, 8192)
BF16 = torch.bfloat16


POINTERS = {"idx_ptr": "*i32", "x_ptr": "*bf16", "h_ptr": "*bf16", "sorted_ptr": "*i32", "counts_ptr": "*i32",
            "wb_ptr": "*u8", "ws_ptr": "*u8", "b_ptr": "*bf16", "route_w_ptr": "*fp32", "y_ptr": "*fp32",
            "a_ptr": "*bf16", "out_ptr": "*bf16"}

ALIGNED_INTS = {"K", "N", "E", "stride_x", "stride_a", "stride_wbe", "stride_wbn", "stride_wse", "stride_be",
                "stride_out", "K_CHUNK"}


def _compile(fn, consts: dict, capability: int, options: dict, source=ASTSource):
    """fn compiled for compute capability `capability` (major * 10 + minor) on any machine, GPU or not (Triton
    ships ptxas), with the pointer types and the alignment Triton's launcher specializes at gpt-oss-20b sizes:
    pointers and ints that are multiples of 16."""
    names = fn.arg_names
    sig = {n: POINTERS.get(n) or ("constexpr" if n in consts else "fp32" if n in ("limit", "alpha") else "i32")
           for n in names}
    aligned = [i for i, n in enumerate(names) if sig[n].startswith("*") or n in ALIGNED_INTS]
    src = source(fn=fn, signature=sig, constexprs={(names.index(k),): v for k, v in consts.items()},
                 attrs={(i,): [["tt.divisibility", 16]] for i in aligned})
    return triton.compile(src, target=GPUTarget("cuda", capability, 32), options=options)


def compile_kernel(kernel: str, bm: int, bn: int, bk: int, warps: int, stages: int, swap: bool, deq: int,
                   s32: bool = False, ahead: bool = False, early: bool = False,
                   blocked: bool = False, pipe: int = 1, capability: int = 90):
    """One MoE GEMM or GEMV kernel compiled for `capability` (_compile): SASS counts (bench/sass_count.py), and the
    test that the kernels the dispatch picks compile for each GPU generation."""
    fn = {"up": moe_triton._moe_up_kernel, "down": moe_triton._moe_down_kernel,
          "up_gemv": moe_triton._moe_up_gemv_kernel, "down_gemv": moe_triton._moe_down_gemv_kernel}[kernel]
    consts = dict(BM=bm, BN=bn, BK=bk, EP=32, PREC="tf32", DEQ=deq, SWAP=swap, S32=s32, AHEAD=ahead, EARLY=early,
                  BLOCKED=blocked)
    if kernel.endswith("gemv"):
        consts = dict(BN=bn, BK=bk, DEQ=deq, BLOCKED=blocked, PIPE=pipe, S32=s32,
                      BKT=moe_triton._tail_width(HIDDEN if kernel.startswith("up") else INTER, bk))
    if kernel.startswith("up"):
        consts.update(TOPK=4, **({} if kernel.endswith("gemv") else {"SPLIT": 1}))
    consts["PDL"] = capability >= 90  # as launch_options passes it
    return _compile(fn, consts, capability, dict(num_warps=warps, num_stages=stages))


def compile_gluon_moe(up: bool, config: dict):
    """The Gluon MoE's up or down kernel (moe_wgmma) compiled for sm_90 under `config`: the CPU test that the
    configs _configs picks build, their dequantized weights landing in the MMA's registers."""
    from triton.experimental.gluon._runtime import GluonASTSource

    from moechat.kernels import moe_wgmma  # Gluon, imported where used (as moe_triton does)

    consts = dict(UP=up, TOPK=4, EP=32, ONE_MUL=True, **moe_wgmma.constexprs(config))
    return _compile(moe_wgmma._moe_wgmma_kernel, consts, 90, moe_wgmma._options(config), GluonASTSource)


def graph_us(calls: list, replays: int = 20) -> float:
    """Microseconds per call, the calls captured once in a CUDA graph and replayed."""
    for c in calls:
        c()  # compile and warm up outside the capture
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for c in calls:
            c()
    g.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(replays):
        g.replay()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) * 1e3 / (replays * len(calls))


def relative_diff(out: torch.Tensor, ref: torch.Tensor) -> float:
    """Largest absolute difference of out from ref, relative to ref's largest magnitude (variant comparisons)."""
    return (out.float() - ref.float()).abs().max().item() / ref.float().abs().max().item()


def kernel_us(calls: list, iters: int = 3) -> dict[str, float]:
    """Per-kernel GPU microseconds per call, from the profiler."""
    for c in calls:
        c()
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            for c in calls:
                c()
        torch.cuda.synchronize()
    out: dict[str, float] = defaultdict(float)
    for e in prof.key_averages():
        t = getattr(e, "device_time_total", None) or getattr(e, "cuda_time_total", 0.0)
        if t:
            out[e.key] += t / (iters * len(calls))
    return dict(out)


def copy_bandwidth() -> float:
    """Bytes/s read + written by a 256 MiB device-to-device copy (10x L2; small enough to fit beside a model and
    its KV cache, so the kernel table and `moechat bench` use the same rate)."""
    a = torch.empty(1 << 28, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    return 2 * a.numel() / (graph_us([lambda: b.copy_(a)], 10) * 1e-6)


def matmul_rate(n: int = 8192) -> float:
    """bf16 FLOP/s of an n x n x n matmul."""
    x, y = (torch.randn(n, n, device="cuda", dtype=BF16) for _ in range(2))
    return 2 * n ** 3 / (graph_us([lambda: x @ y], 10) * 1e-6)


def random_experts(layers: int, blocked: bool | None = None) -> list[dict]:
    """Random gpt-oss-20b-sized MXFP4 experts for `layers` layers, laid out as the engine holds them (or, if
    `blocked` is given, in block_rows' layout or not)."""
    def u8(*shape, low=0, high=256):
        return torch.randint(low, high, shape, dtype=torch.uint8, device="cuda")

    E, H, I = EXPERTS, HIDDEN, INTER
    experts = [{"w1_blocks": u8(E, 2 * I, H // 32, 16), "w1_scales": u8(E, 2 * I, H // 32, low=119, high=122),
                "w1_bias": 0.1 * torch.randn(E, 2 * I, device="cuda", dtype=BF16),
                "w2_blocks": u8(E, H, I // 32, 16), "w2_scales": u8(E, H, I // 32, low=119, high=122),
                "w2_bias": 0.1 * torch.randn(E, H, device="cuda", dtype=BF16), "max_scale": 121}
               for _ in range(layers)]
    for ex in experts:  # as the engine holds them (scales <= 128: one multiply per weight pair)
        moe_triton.lay_out_experts(ex, blocked)
    return experts


def expert_bytes(ex: dict) -> int:
    """Bytes of one expert (packed weights, scales, biases)."""
    return sum(t[0].numel() * t.element_size() for t in ex.values() if isinstance(t, torch.Tensor))


def random_routes(x: torch.Tensor, layers: list) -> tuple[list, torch.Tensor, list]:
    """A random router per layer: (router weights, router bias, each layer's (weights, experts) for x)."""
    rw = [0.02 * torch.randn(EXPERTS, HIDDEN, device="cuda", dtype=BF16) for _ in layers]
    rb = torch.zeros(EXPERTS, device="cuda", dtype=BF16)
    return rw, rb, [moe_triton.route(x, w, rb, TOP_K) for w in rw]


def decode_batch(B: int, ctx: int) -> tuple[AttentionBatch, int]:
    nb = -(-ctx // PAGE)
    tables = torch.randperm(B * nb, device="cuda", dtype=torch.int64).to(torch.int32).view(B, nb)
    starts = list(range(B + 1))
    return AttentionBatch(torch.tensor(starts, dtype=torch.int32, device="cuda"),
                          torch.full((B,), ctx, dtype=torch.int32, device="cuda"), tables,
                          torch.zeros(B, dtype=torch.int64, device="cuda"), starts, [ctx] * B, 1), B * nb


def prefill_batch(n: int) -> tuple[AttentionBatch, int]:
    nb = -(-n // PAGE)
    tables = torch.randperm(nb, device="cuda", dtype=torch.int64).to(torch.int32).view(1, nb)
    return AttentionBatch(torch.tensor([0, n], dtype=torch.int32, device="cuda"),
                          torch.tensor([n], dtype=torch.int32, device="cuda"), tables,
                          torch.zeros(n, dtype=torch.int64, device="cuda"), [0, n], [n], n), nb


class Table:
    def __init__(self, bw: float, rate: float):
        self.bw, self.rate, self.rows = bw, rate, []

    def add(self, kernel: str, size: str, us: float, nbytes: float, flops: float) -> None:
        t_bw, t_fl = nbytes / self.bw * 1e6, flops / self.rate * 1e6
        bound = "bw" if t_bw >= t_fl else "flops"
        self.rows.append((kernel, size, us, nbytes / us * 1e-3, flops / us * 1e-6, max(t_bw, t_fl),
                          100 * max(t_bw, t_fl) / us, bound))

    def __str__(self) -> str:
        head = f"{'kernel':<18}{'size':<14}{'us':>10}{'GB/s':>9}{'TFLOP/s':>9}{'roof us':>9}{'% roof':>8}  bound"
        lines = [head] + [f"{k:<18}{s:<14}{us:>10.1f}{gb:>9.0f}{tf:>9.1f}{r:>9.1f}{p:>7.0f}%  {b}"
                          for k, s, us, gb, tf, r, p, b in self.rows]
        return "\n".join(lines)


def bench_small_ops(tab: Table, sizes) -> None:
    inv_freq, scale = yarn_inv_freq_and_scale(HEAD_DIM, 150000.0, 32.0, 32.0, 1.0, 4096, False)
    cos, sin = rope_tables(131072, inv_freq, scale, "cuda")
    for T in sizes:
        x, r = (torch.randn(T, HIDDEN, device="cuda", dtype=BF16) for _ in range(2))
        w = torch.ones(HIDDEN, device="cuda", dtype=BF16)
        us = graph_us([lambda: norm_triton.add_rmsnorm(x, r, w, 1e-5)])
        tab.add("add_rmsnorm", f"T={T}", us, 4 * T * HIDDEN * 2, 0)
        qkv = torch.randn(T, (HEADS + 2 * KV_HEADS) * HEAD_DIM, device="cuda", dtype=BF16)
        qd, kd = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
        q, k, v = (qkv[:, :qd].view(T, HEADS, HEAD_DIM), qkv[:, qd:qd + kd].view(T, KV_HEADS, HEAD_DIM),
                   qkv[:, qd + kd:].view(T, KV_HEADS, HEAD_DIM))
        kc, vc = (torch.zeros(T // PAGE + 1, PAGE, KV_HEADS, HEAD_DIM, device="cuda", dtype=BF16) for _ in range(2))
        pos = torch.randint(0, 131072, (T,), device="cuda")
        slots = torch.arange(T, device="cuda")
        us = graph_us([lambda: rope_triton.rope_write_kv(q, k, v, cos, sin, pos, kc, vc, slots)])
        tab.add("rope_write_kv", f"T={T}", us, 2 * qkv.numel() * 2 + T * HEAD_DIM * 4, 0)
    for M in (1, 8):
        for name, x, ws, b in projections(M):
            for impl, fn in (("linear", linear_triton.linear), ("linear cuBLAS", torch.nn.functional.linear)):
                us = graph_us([lambda w=w: fn(x, w, b) for w in ws])
                tab.add(impl, f"{name} T={M}", us, ws[0].numel() * 2, 2 * M * ws[0].numel())


def projections(M: int) -> list[tuple[str, torch.Tensor, list[torch.Tensor], torch.Tensor]]:
    """(name, M rows of x, 4 weights, bias) of gpt-oss-20b's qkv and o-projection: 4 weights cycled, since one
    (24-30 MB) would stay in the 50 MB L2 between graph replays."""
    qkv = (HEADS + 2 * KV_HEADS) * HEAD_DIM
    return [(name, torch.randn(M, K, device="cuda", dtype=BF16),
             [0.02 * torch.randn(N, K, device="cuda", dtype=BF16) for _ in range(4)],
             torch.randn(N, device="cuda", dtype=BF16))
            for name, N, K in (("qkv", qkv, HIDDEN), ("o-proj", HIDDEN, HEADS * HEAD_DIM))]


def sweep_linear() -> list[str]:
    """Graph-replay microseconds of the decode linear kernels' tiles at the attention projections' sizes."""
    notes = []
    one_row = [dict(BN=bn, BK=bk, num_warps=w) for bn in (2, 4, 8) for bk in (256, 512, 1024) for w in (2, 4, 8)]
    rows = [dict(BM=16, BN=bn, BK=bk, num_warps=w, num_stages=st) for bn in (16, 32, 64) for bk in (64, 128, 256)
            for w in (2, 4) for st in (3, 4)]
    for M, configs in ((1, one_row), (8, rows)):
        for name, x, ws, b in projections(M):
            us = graph_us([lambda w=w: torch.nn.functional.linear(x, w, b) for w in ws])
            notes.append(f"sweep linear {name} T={M} cuBLAS: {us:.1f} us")
            for cfg in configs:
                try:
                    us = graph_us([lambda w=w: linear_triton.linear(x, w, b, cfg) for w in ws])
                except Exception as e:  # a tile that does not fit in shared memory
                    notes.append(f"sweep linear {name} T={M} {cfg}: {type(e).__name__}")
                    continue
                notes.append(f"sweep linear {name} T={M} {cfg}: {us:.1f} us")
    return notes


def bench_moe(tab: Table, sizes, layers: list[dict], sweep: bool) -> list[str]:
    notes = []
    for T in sizes:
        x = torch.randn(T, HIDDEN, device="cuda", dtype=BF16)
        rw, rb, routes = random_routes(x, layers)
        used = sum(int(torch.unique(i).numel()) for _, i in routes) / len(layers)
        us = graph_us([lambda w=w: moe_triton.route(x, w, rb, TOP_K) for w in rw])
        tab.add("route", f"T={T}", us, EXPERTS * HIDDEN * 2 + T * HIDDEN * 2, 2 * T * HIDDEN * EXPERTS)
        nbytes = expert_bytes(layers[0]) * used + 2 * T * HIDDEN * 2
        flops = 2 * T * TOP_K * (2 * INTER * HIDDEN + INTER * HIDDEN)
        us = graph_us([lambda ex=ex, r=r: moe_triton.moe(x, r[0], r[1], ex, 7.0) for ex, r in zip(layers, routes)])
        tab.add("moe", f"T={T} ({used:.0f}E)", us, nbytes, flops)
        # as a decode layer runs it: the route already made x's planes (1-2 tokens) or grouped the pairs (one
        # row block of the split route), and the next norm sums the k slots
        made = [engine_routing(T, w, rb) for w in rw]
        us = graph_us([lambda ex=ex, h=h, r=r: moe_triton.moe_pairs(h, r.weights, r.experts, ex, 7.0,
                                                                    groups=r.groups, planes=r.planes)
                       for ex, (h, r) in zip(layers, made)])
        tab.add("moe pairs (engine)", f"T={T} ({used:.0f}E)", us, nbytes, flops)
        if T in (1, 8, 256, 8192):  # the other weight layout; where the MMA tiles run, 2-mul dequant, byte scales
            variants = [other_layout(layers)]
            if T * TOP_K > moe_triton.GEMV_PAIRS:  # the GEMVs read scale bytes and apply scales in fp32 anyway
                variants += [("moe 2-mul dequant", [dict(ex, max_scale=255) for ex in layers]),
                             ("moe byte scales", [dict(ex, **{k: ex[k].contiguous()
                                                              for k in ("w1_scales", "w2_scales")}) for ex in layers])]
            for name, exs in variants:
                us = graph_us([lambda ex=ex, r=r: moe_triton.moe(x, r[0], r[1], ex, 7.0) for ex, r in zip(exs, routes)])
                tab.add(name, f"T={T} ({used:.0f}E)", us, nbytes, flops)
        if sweep:
            notes += sweep_moe(T, x, layers, routes)
    return notes


def engine_routing(T: int, router_w: torch.Tensor, router_b: torch.Tensor) -> tuple[torch.Tensor, Routing]:
    """(h, its Routing) as a decode layer's add_rmsnorm_route hands them to the MoE for random a + residual: with
    x's planes where the GEMVs run, the pairs grouped where one split-route row block holds the batch."""
    a, residual = (torch.randn(T, HIDDEN, device="cuda", dtype=BF16) for _ in range(2))
    norm_w = torch.ones(HIDDEN, device="cuda", dtype=BF16)
    h, _, routing = moe_triton.add_rmsnorm_route(a, residual, norm_w, 1e-5, router_w, router_b, TOP_K)
    return h, routing


def other_layout(layers: list[dict]) -> tuple[str, list[dict]]:
    """(row name, the layers' experts in the packed layout the engine does not use on this GPU)."""
    blocked = layers[0]["w1_blocks"].dim() == 5
    change = moe_triton.row_major if blocked else moe_triton.block_rows
    return ("moe row-major" if blocked else "moe block_rows",
            [dict(ex, **{k: change(ex[k]) for k in ("w1_blocks", "w2_blocks")}) for ex in layers])


def sweep_decode(layers: list[dict]) -> list[str]:
    """Profiler times at decode sizes: the grouped down GEMM's K splits, the route's tiles."""
    notes = []
    for T in (1, 8):
        x = torch.randn(T, HIDDEN, device="cuda", dtype=BF16)
        rw, rb, routes = random_routes(x, layers)
        up, down = moe_triton._configs(T * TOP_K, EXPERTS, BF16, torch.device("cuda"))
        for split in (1, 2, 4, 8):
            cfg = (up, dict(down, SPLIT=split))
            t = kernel_us([lambda ex=ex, r=r: moe_triton.moe(x, r[0], r[1], ex, 7.0, configs=cfg)
                           for ex, r in zip(layers, routes)])
            notes.append(f"sweep moe T={T} down split {split} {down}: " +
                         ", ".join(f"{k.strip('_').split('_kernel')[0]} {v:.1f}" for k, v in sorted(t.items())))
        for cfg in (dict(BT=16, BK=128, SPLIT=1, num_warps=4, num_stages=3),
                    dict(BT=16, BK=64, SPLIT=16, num_warps=4, num_stages=2),
                    dict(BT=16, BK=128, SPLIT=8, num_warps=4, num_stages=2)):
            t = kernel_us([lambda w=w: moe_triton.route(x, w, rb, TOP_K, config=cfg) for w in rw])
            us = graph_us([lambda w=w: moe_triton.route(x, w, rb, TOP_K, config=cfg) for w in rw])
            notes.append(f"sweep route T={T} {cfg}: graph {us:.1f} us; " +
                         ", ".join(f"{k.strip('_')[:14]} {v:.1f}" for k, v in sorted(t.items())))
    return notes


def moe_candidates(T: int) -> list[dict]:
    """Tile configurations the sweep profiles (and the GPU tests check against the reference)."""
    if T <= 64:
        return [dict(BM=16, BN=bn, BK=bk, num_warps=w, num_stages=3, SWAP=sw)
                for bn, bk in ((32, 128), (32, 256), (64, 64), (64, 128), (128, 128)) for w in (2, 4)
                for sw in (False, True)]
    if T <= 512:
        return [dict(BM=bm, BN=bn, BK=128, num_warps=4, num_stages=3, SWAP=sw) for bm in (16, 32, 64)
                for bn in (64, 128) for sw in (False, True) if not (sw and bm > 32)]
    return [dict(BM=bm, BN=bn, BK=bk, num_warps=8, num_stages=3) for bm, bn in ((128, 128), (128, 256), (256, 128))
            for bk in (64, 128)]


def sweep_moe(T: int, x, layers, routes) -> list[str]:
    best: dict[str, tuple[float, dict]] = {}
    for cfg in moe_candidates(T):
        try:
            times = kernel_us([lambda ex=ex, r=r: moe_triton.moe(x, r[0], r[1], ex, 7.0, configs=(cfg, cfg))
                               for ex, r in zip(layers, routes)])
        except Exception as e:  # a config that does not fit in shared memory
            print(f"  moe T={T} {cfg}: {type(e).__name__}")
            continue
        for name in ("_moe_up_kernel", "_moe_down_kernel"):
            us = sum(v for k, v in times.items() if name in k)
            if name not in best or us < best[name][0]:
                best[name] = (us, cfg)
        print(f"  T={T} {cfg}: " + ", ".join(f"{k[:24]} {v:.1f}" for k, v in sorted(times.items())))
    return [f"sweep moe T={T}: {k} best {v[0]:.1f} us with {v[1]}" for k, v in best.items()]


def bench_attention(tab: Table, sweep: bool) -> list[str]:
    notes = []
    sinks = torch.randn(HEADS, device="cuda")
    scale = HEAD_DIM ** -0.5
    for B in DECODE_SIZES:
        ctx = 8192
        batch, nblocks = decode_batch(B, ctx)
        caches = [torch.randn(nblocks, PAGE, KV_HEADS, HEAD_DIM, device="cuda", dtype=BF16) for _ in range(2)]
        q = torch.randn(B, HEADS, HEAD_DIM, device="cuda", dtype=BF16)
        for window in (0, WINDOW):
            keys = min(ctx, window or ctx)
            us = graph_us([lambda: attention_triton.paged_attention(q, caches[0], caches[1], sinks, batch, window,
                                                                   scale)])
            tab.add("attn decode", f"B={B} ctx=8k{' w' if window else ''}", us,
                    B * keys * KV_HEADS * HEAD_DIM * 2 * 2, 4 * B * HEADS * keys * HEAD_DIM)
        if sweep and B in (1, 64):
            for bn in (32, 64, 128):
                for w, st in ((4, 2), (4, 3), (4, 4), (8, 3)):
                    cfg = dict(BLOCK_N=bn, num_warps=w, num_stages=st)
                    t = kernel_us([lambda: attention_triton.paged_attention(q, caches[0], caches[1], sinks, batch,
                                                                           0, scale, cfg)])
                    notes.append(f"sweep attn decode B={B}: {cfg}: " +
                                 ", ".join(f"{k[:16]} {v:.1f}" for k, v in sorted(t.items())))
    for n in PREFILL_SIZES:
        batch, nblocks = prefill_batch(n)
        kc, vc = (torch.randn(nblocks, PAGE, KV_HEADS, HEAD_DIM, device="cuda", dtype=BF16) for _ in range(2))
        q = torch.randn(n, HEADS, HEAD_DIM, device="cuda", dtype=BF16)
        for window in (0, WINDOW):
            pairs = sum(min(i + 1, window or n) for i in range(n))
            us = graph_us([lambda: attention_triton.paged_attention(q, kc, vc, sinks, batch, window, scale)], 5)
            tab.add("attn prefill", f"T={n}{' w' if window else ''}", us, 2 * q.numel() * 2 + 2 * kc.numel() * 2,
                    4 * pairs * HEADS * HEAD_DIM)
        if sweep and n == 8192:
            for rows in (64, 128):
                for bn in (32, 64, 128):
                    for w, st in ((4, 2), (8, 2), (8, 3)):
                        cfg = dict(ROWS=rows, BLOCK_N=bn, num_warps=w, num_stages=st)
                        try:
                            t = kernel_us([lambda: attention_triton.paged_attention(q, kc, vc, sinks, batch, 0,
                                                                                   scale, cfg)], 2)
                        except Exception as e:
                            notes.append(f"sweep attn prefill {cfg}: {type(e).__name__}")
                            continue
                        notes.append(f"sweep attn prefill T=8192: {cfg}: " +
                                     ", ".join(f"{k[:16]} {v:.1f}" for k, v in sorted(t.items())))
    return notes


def run_kernel_bench(args) -> str:
    """The table (and, with args.sweep, the tile sweep notes) as text."""
    sweep = getattr(args, "sweep", None) or ""
    bw, rate = copy_bandwidth(), matmul_rate()
    tab = Table(bw, rate)
    head = (f"device: {torch.cuda.get_device_name()}  copy bandwidth {bw / 1e9:.0f} GB/s  "
            f"bf16 matmul {rate / 1e12:.0f} TFLOP/s")
    bench_small_ops(tab, DECODE_SIZES + PREFILL_SIZES)
    layers = random_experts(4)
    notes = bench_moe(tab, DECODE_SIZES + PREFILL_SIZES, layers, sweep in ("moe", "all"))
    notes += bench_attention(tab, sweep in ("attention", "all"))
    if sweep in ("decode", "all"):
        notes += sweep_decode(layers) + sweep_linear()
    return "\n".join([head, str(tab)] + notes)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sweep", choices=("moe", "attention", "decode", "all"), help="also profile tile configurations")
    print(run_kernel_bench(p.parse_args(argv)))


if __name__ == "__main__":
    main()
