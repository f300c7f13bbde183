"""MoE on packed MXFP4 experts in Triton: fused routing, grouping by expert, two grouped GEMMs.

route: one kernel does router logits (GEMM over the hidden size), top-k and the softmax over the k; at decode
       sizes (add_rmsnorm_route) it also does the residual add + norm before it (up to 2 rows) and groups the
       pairs by expert for the MoE.
moe:   pairs (token, slot) are counted per expert and scattered into expert order (small kernels, no host
       sync, so decode can be captured in a CUDA graph; none when the route grouped them); then
       up   = per expert tile: gather x rows, x @ w1^T reading MXFP4 nibbles + e8m0 scales and dequantizing
              in registers, + bias, clamped SwiGLU on the interleaved gate/up columns -> h (expert order);
       down = h @ w2^T (MXFP4 again) + bias, times the pair's routing weight -> y [T, k, H];
       sum  = y summed over k per token (a fixed order: deterministic, unlike atomics).
Each GEMM program finds its (expert, rows) from the per-expert counts, so the grid is a static bound:
min(pairs, ceil(pairs / BM) + experts) row tiles, the extras exit at once. Decode-sized batches use a
16-row tile; prefill uses large tiles. One or two tokens skip the grouping: each pair streams its expert
through CUDA-core GEMVs (up with SwiGLU, then down times the routing weight), no tensor cores, multiplying
fp16 weight/activation pairs. A tile config may also transpose the product (SWAP) and read scale rows as
32-bit words (S32), or name moe_wgmma's Gluon kernels instead (WGMMA, sm_90); _configs picks per size from the
H100 and H200 sweeps. On an H100 the engine stores the packed weights in 16-row blocks of 512-byte chunks
(block_rows), elsewhere row-major as in the checkpoint; the Triton kernels read either, the Gluon ones row-major.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from moechat.kernels import norm_triton
from moechat.kernels.attention_triton import mma_precision
from moechat.kernels.moe import SWIGLU_ALPHA, Routing, pad_scale_rows
from moechat.kernels.pdl import capability, launch_options, wait_for_previous


@triton.jit
def _route_logits(x_ptr, w_ptr, rows, rmask, ex, emask, k_lo, k_hi, stride_x, stride_w,
                  BT: tl.constexpr, BK: tl.constexpr, EP: tl.constexpr, PREC: tl.constexpr):
    """x[rows, k_lo:k_hi] @ w[:, k_lo:k_hi]^T -> [BT, EP] fp32."""
    acc = tl.zeros([BT, EP], tl.float32)
    for k0 in range(k_lo, k_hi, BK):
        kk = k0 + tl.arange(0, BK)
        kmask = kk < k_hi
        x = tl.load(x_ptr + rows[:, None].to(tl.int64) * stride_x + kk[None, :], mask=rmask[:, None] & kmask[None, :],
                    other=0.0)
        w = tl.load(w_ptr + ex[:, None] * stride_w + kk[None, :], mask=emask[:, None] & kmask[None, :], other=0.0)
        acc = tl.dot(x, tl.trans(w), acc, input_precision=PREC)
    return acc


@triton.jit
def _route_select(acc, x_ptr, b_ptr, weights_ptr, idx_ptr, rows, rmask, ex, emask,
                  TOPK: tl.constexpr, KP: tl.constexpr, BT: tl.constexpr, EP: tl.constexpr):
    """Logits (+ bias) -> top-k (lowest index wins ties) and the softmax over the k, stored per row; returns the
    picks [BT, KP] (columns past TOPK: zero)."""
    acc += tl.load(b_ptr + ex, mask=emask, other=0.0).to(tl.float32)[None, :]
    # the reference ranks logits rounded to the activation dtype
    logits = tl.where(emask[None, :], acc.to(x_ptr.dtype.element_ty).to(tl.float32), float("-inf"))
    kcol = tl.arange(0, KP)[None, :]
    vals = tl.zeros([BT, KP], tl.float32)
    picks = tl.zeros([BT, KP], tl.int32)
    for j in tl.static_range(TOPK):
        best = tl.max(logits, axis=1)
        pick = tl.min(tl.where(logits == best[:, None], ex[None, :], EP), axis=1)  # lowest index wins ties
        vals = tl.where(kcol == j, best[:, None], vals)
        picks = tl.where(kcol == j, pick[:, None], picks)
        logits = tl.where(ex[None, :] == pick[:, None], float("-inf"), logits)
    kmask2 = kcol < TOPK
    p = tl.where(kmask2, tl.exp(vals - tl.max(tl.where(kmask2, vals, float("-inf")), axis=1)[:, None]), 0.0)
    p = p / tl.sum(p, axis=1)[:, None]
    out = rows[:, None] * TOPK + kcol
    omask = rmask[:, None] & kmask2
    tl.store(weights_ptr + out, p, mask=omask)
    tl.store(idx_ptr + out, picks, mask=omask)
    return picks


@triton.jit(do_not_specialize=["T"])
def _route_kernel(x_ptr, w_ptr, b_ptr, weights_ptr, idx_ptr, T, K, E, stride_x, stride_w,
                  TOPK: tl.constexpr, KP: tl.constexpr, BT: tl.constexpr, BK: tl.constexpr, EP: tl.constexpr,
                  PREC: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    rows = tl.program_id(0) * BT + tl.arange(0, BT)
    rmask = rows < T
    ex = tl.arange(0, EP)
    emask = ex < E
    acc = _route_logits(x_ptr, w_ptr, rows, rmask, ex, emask, 0, K, stride_x, stride_w, BT, BK, EP, PREC)
    _route_select(acc, x_ptr, b_ptr, weights_ptr, idx_ptr, rows, rmask, ex, emask, TOPK, KP, BT, EP)


@triton.jit
def _add_rmsnorm_columns(a_ptr, res_ptr, norm_w_ptr, h_ptr, sum_ptr, planes_ptr, T, k_lo, k_hi, K, eps,
                         NR: tl.constexpr, KB: tl.constexpr, PLANES: tl.constexpr):
    """Columns k_lo:k_hi of (rmsnorm(a + res), a + res) for the T rows of width K (KB >= K), stored to h and sum
    (PLANES: h also as the decode GEMVs' activation planes).
    Each split program of the route computes the rows' rstd for itself from whole rows (a few KB from L2), NR
    rows per pass: one pass at the sizes that take this path (a pass is a memory round trip, K-chunked loops
    were 21 us where the norm kernel takes 3)."""
    cols = tl.arange(0, KB)
    mine = (cols >= k_lo) & (cols < k_hi)
    w = tl.load(norm_w_ptr + cols, mask=mine, other=0.0).to(tl.float32)[None, :]
    for r0 in range(0, T, NR):
        rows = r0 + tl.arange(0, NR)
        off = rows[:, None].to(tl.int64) * K + cols[None, :]
        m = (rows < T)[:, None] & (cols < K)[None, :]
        x = tl.load(a_ptr + off, mask=m, other=0.0) + tl.load(res_ptr + off, mask=m, other=0.0)  # rounded, as
        t = x.to(tl.float32)  # the reference's a + residual is
        rstd = tl.rsqrt(tl.sum(t * t, axis=1) / K + eps)[:, None]
        m &= mine[None, :]
        tl.store(sum_ptr + off, x, mask=m)
        h = (t * rstd * w).to(h_ptr.dtype.element_ty)
        tl.store(h_ptr + off, h, mask=m)
        if PLANES:
            tl.store(planes_ptr + rows[:, None].to(tl.int64) * K + _plane_index(cols)[None, :], _plane_values(h),
                     mask=m)


@triton.jit(do_not_specialize=["T"])
def _route_split_kernel(x_ptr, w_ptr, b_ptr, part_ptr, arrivals_ptr, weights_ptr, idx_ptr, T, K, E, stride_x,
                        stride_w, K_CHUNK, SPLIT, a_ptr, res_ptr, norm_w_ptr, sum_ptr, eps, counts_ptr, sorted_ptr,
                        planes_ptr, TOPK: tl.constexpr, KP: tl.constexpr, BT: tl.constexpr, BK: tl.constexpr,
                        EP: tl.constexpr, PREC: tl.constexpr, NORM: tl.constexpr, NR: tl.constexpr, KB: tl.constexpr,
                        GROUP: tl.constexpr, GEP: tl.constexpr, PLANES: tl.constexpr, CP: tl.constexpr = 0,
                        PDL: tl.constexpr = False):
    """Split-K router logits for decode: program (row block, split) -> part[split, rows, :] (fp32). The last
    program of a row block to arrive sums the parts in split order (deterministic whatever the arrival order),
    picks, and resets the row block's arrival count for the next call: one kernel, no second launch.
    NORM: x (contiguous) is first computed here as rmsnorm(a + res), each program storing its K split of x and of
    a + res (the residual add + norm before the MoE, without a kernel of its own); PLANES: x also as planes.
    GROUP (one row block holds the batch): the last program also groups the pairs by expert (_group_in_order's
    counts and order, GEP experts) for moe_pairs, so the MoE needs no scatter kernel.
    CP (a power of two >= K_CHUNK; 0: a BK loop): the program's router columns, constant weights, are asked for
    before it waits for the previous kernel, so their memory round trip overlaps that kernel's end instead of
    following the norm, and go into one dot."""
    rows = tl.program_id(0) * BT + tl.arange(0, BT)
    rmask = rows < T
    ex = tl.arange(0, EP)
    emask = ex < E
    k_lo = tl.multiple_of(tl.program_id(1) * K_CHUNK, BK)
    k_hi = tl.minimum(k_lo + K_CHUNK, K)
    if CP > 0:
        kk = k_lo + tl.arange(0, CP)
        kmask = kk < k_hi
        w = tl.load(w_ptr + ex[:, None] * stride_w + kk[None, :], mask=emask[:, None] & kmask[None, :], other=0.0)
    wait_for_previous(PDL)
    if NORM:  # one row block (T <= BT)
        _add_rmsnorm_columns(a_ptr, res_ptr, norm_w_ptr, x_ptr, sum_ptr, planes_ptr, T, k_lo, k_hi, K, eps, NR, KB,
                             PLANES)
        tl.debug_barrier()  # the columns stored by every thread before any reads them back below
    if CP > 0:
        x = tl.load(x_ptr + rows[:, None].to(tl.int64) * stride_x + kk[None, :], mask=rmask[:, None] & kmask[None, :],
                    other=0.0)
        acc = tl.dot(x, tl.trans(w), input_precision=PREC)
    else:
        acc = _route_logits(x_ptr, w_ptr, rows, rmask, ex, emask, k_lo, k_hi, stride_x, stride_w, BT, BK, EP, PREC)
    tl.store(part_ptr + (tl.program_id(1) * T + rows[:, None]).to(tl.int64) * EP + ex[None, :], acc,
             mask=rmask[:, None])
    tl.debug_barrier()  # every thread's part stored before the program's arrival is counted (release below)
    arrived = tl.atomic_add(arrivals_ptr + tl.program_id(0), 1, sem="acq_rel")
    if arrived == SPLIT - 1:
        total = tl.zeros([BT, EP], tl.float32)
        for sp in range(0, SPLIT):  # .cg: read the other programs' parts from L2, never a stale L1 line
            total += tl.load(part_ptr + (sp * T + rows[:, None]).to(tl.int64) * EP + ex[None, :],
                             mask=rmask[:, None], other=0.0, cache_modifier=".cg")
        picks = _route_select(total, x_ptr, b_ptr, weights_ptr, idx_ptr, rows, rmask, ex, emask, TOPK, KP, BT, EP)
        tl.atomic_xchg(arrivals_ptr + tl.program_id(0), 0)
        if GROUP:  # the picks in (row, slot) order are the pairs in order
            kcol = tl.arange(0, KP)[None, :]
            valid = (rmask[:, None] & (kcol < TOPK)).reshape([BT * KP])
            pair = (rows[:, None] * TOPK + kcol).reshape([BT * KP])
            _group_in_order(tl.where(valid, picks.reshape([BT * KP]), GEP), pair, valid, counts_ptr, sorted_ptr, GEP)


_ARRIVALS: dict[torch.device, torch.Tensor] = {}


def _arrivals(device: torch.device, row_blocks: int) -> torch.Tensor:
    """Per-device zeroed arrival counts for _route_split_kernel's row blocks; each call leaves them zero again.
    Made on first use, before any CUDA graph capture (the engine's warm-up runs eagerly first)."""
    buf = _ARRIVALS.get(device)
    if buf is None or buf.numel() < row_blocks:
        buf = _ARRIVALS[device] = torch.zeros(max(1024, row_blocks), dtype=torch.int32, device=device)
    return buf


def _route_config(T: int, device: torch.device) -> dict:
    """SPLIT > 1: decode sizes split K over that many programs (one program streaming the whole 184 KB router
    was latency bound: 12 us in the decode graph); the last to finish sums the splits and picks."""
    if device.type != "cuda":
        return dict(BT=16, BK=32, SPLIT=1, num_warps=4, num_stages=1)
    # H100 sweep at T=1 and 8: split 8 -> 5.4 us per call in a graph, against 9.6 us unsplit. H200, session 18:
    # the router columns asked for before the wait (PRELOAD), 8 warps: 7.38 -> 6.45 us a call in the decode step
    if T <= 16:
        return dict(BT=16, BK=128, SPLIT=8, num_warps=8, num_stages=2, PRELOAD=True)
    return dict(BT=64, BK=128, SPLIT=1, num_warps=4, num_stages=3)


def _split_k(K: int, split: int, bk: int) -> tuple[int, int]:
    """(columns per split, number of splits): K cut into at most `split` chunks of whole BK tiles."""
    chunk = triton.cdiv(triton.cdiv(K, split), bk) * bk
    return chunk, triton.cdiv(K, chunk)


def route(x: torch.Tensor, router_w: torch.Tensor, router_b: torch.Tensor, top_k: int, config: dict | None = None):
    """Same contract as route_ref: (weights fp32 [T, k], experts int32 [T, k]), experts in descending logit.
    `config` overrides the tiles (benchmark sweeps)."""
    weights, idx, _ = _route(x, router_w, router_b, top_k, dict(config or _route_config(x.shape[0], x.device)),
                             group=False)
    return weights, idx


NORM_ROWS = 2  # rows whose add + norm the split route does itself, in one pass (more rows: more passes, each a
# memory round trip; the norm kernel then costs less)


def add_rmsnorm_route(a: torch.Tensor, residual: torch.Tensor, norm_w: torch.Tensor, eps: float,
                      router_w: torch.Tensor, router_b: torch.Tensor, top_k: int,
                      config: dict | None = None) -> tuple[torch.Tensor, torch.Tensor, Routing]:
    """(h, a + residual, the route of h) with h = rmsnorm(a + residual): same contract as add_rmsnorm then route.
    Where the split route covers the batch with one row block (decode) its kernel also groups the pairs by expert
    for moe_pairs (Routing.groups), and up to NORM_ROWS rows it does the add and the norm too, and stores h as
    the decode GEMVs' activation planes as well (Routing.planes) where those will read them."""
    T, K = a.shape
    cfg = dict(config or _route_config(T, a.device))
    group = T * top_k > GEMV_PAIRS  # the GEMV path reads each pair's expert from the route itself
    if not 0 < T <= NORM_ROWS or _split_k(K, cfg.get("SPLIT", 1), cfg["BK"])[1] == 1:  # (BT >= 16 rows)
        h, total = norm_triton.add_rmsnorm(a, residual, norm_w, eps)
        return h, total, Routing(*_route(h, router_w, router_b, top_k, cfg, group=group))
    h, total = torch.empty_like(a), torch.empty_like(a)
    planes = None if group or not _gemv_dequant(a) else torch.empty((T, K), dtype=torch.float16, device=a.device)
    return h, total, Routing(*_route(h, router_w, router_b, top_k, cfg, group=group,
                                     norm=(a.contiguous(), residual.contiguous(), norm_w, eps, total, planes)),
                             planes=planes)


def _route(x: torch.Tensor, router_w: torch.Tensor, router_b: torch.Tensor, top_k: int, cfg: dict, group: bool,
           norm: tuple | None = None) -> tuple[torch.Tensor, torch.Tensor, tuple | None]:
    """route(), plus, if `group`, the pairs grouped by expert ((counts, sorted pairs), else None) when the split
    kernel runs with one row block. norm = (a, residual, norm_w, eps, total, planes): x (empty, contiguous) is
    written by the split kernel as rmsnorm(a + residual), total as a + residual and, unless None, planes as x's
    activation planes first (add_rmsnorm_route checked it applies)."""
    T, K = x.shape
    E = router_w.shape[0]
    dev = x.device
    weights = torch.empty((T, top_k), dtype=torch.float32, device=dev)
    idx = torch.empty((T, top_k), dtype=torch.int32, device=dev)
    if T == 0:
        return weights, idx, None
    x = x.contiguous()
    split, bt, bk, preload = cfg.pop("SPLIT", 1), cfg["BT"], cfg["BK"], cfg.pop("PRELOAD", False)
    EP = max(16, triton.next_power_of_2(E))
    KP = triton.next_power_of_2(top_k)
    chunk, split = _split_k(K, split, bk)
    if split == 1:
        _route_kernel[(triton.cdiv(T, bt),)](
            x, router_w, router_b, weights, idx, T, K, E, x.stride(0), router_w.stride(0), TOPK=top_k, KP=KP,
            EP=EP, PREC=mma_precision(x.dtype), **cfg, **launch_options(dev))
        return weights, idx, None
    part = torch.empty((split, T, EP), dtype=torch.float32, device=dev)
    blocks = triton.cdiv(T, bt)
    group = group and blocks == 1
    counts = torch.empty(triton.next_power_of_2(E), dtype=torch.int32, device=dev)
    sorted_pairs = torch.empty(T * top_k, dtype=torch.int32, device=dev)
    a, residual, norm_w, eps, total, planes = norm or (x, x, x, 0.0, x, None)
    _route_split_kernel[(blocks, split)](
        x, router_w, router_b, part, _arrivals(dev, blocks), weights, idx, T, K, E, x.stride(0),
        router_w.stride(0), chunk, split, a, residual, norm_w, total, eps, counts, sorted_pairs,
        x if planes is None else planes, TOPK=top_k, KP=KP, EP=EP, PREC=mma_precision(x.dtype), NORM=norm is not None,
        NR=triton.next_power_of_2(min(T, NORM_ROWS)), KB=triton.next_power_of_2(K), GROUP=group, GEP=counts.numel(),
        PLANES=planes is not None, CP=triton.next_power_of_2(chunk) if preload else 0, **cfg, **launch_options(dev))
    return weights, idx, (counts, sorted_pairs) if group else None


@triton.jit(do_not_specialize=["P"])
def _count_kernel(idx_ptr, chunk_counts_ptr, P, CHUNK: tl.constexpr, EP: tl.constexpr, PDL: tl.constexpr = False):
    """chunk_counts[c, e] = pairs of chunk c routed to expert e."""
    wait_for_previous(PDL)
    c = tl.program_id(0)
    p = c * CHUNK + tl.arange(0, CHUNK)
    e = tl.load(idx_ptr + p, mask=p < P, other=EP)
    onehot = (e[:, None] == tl.arange(0, EP)[None, :]).to(tl.int32)
    tl.store(chunk_counts_ptr + c * EP + tl.arange(0, EP), tl.sum(onehot, axis=0))


@triton.jit
def _scatter_in_order(e, p, pmask, totals, before, sorted_ptr, EP: tl.constexpr):
    """sorted[expert_start[e] + before[e] + rank] = p for pairs p in pair order (e = their experts, EP where pmask
    is off; totals: every pair's count per expert; before: those of earlier chunks): expert order, pair order
    within an expert."""
    onehot = e[:, None] == tl.arange(0, EP)[None, :]
    rank = tl.cumsum(onehot.to(tl.int32), axis=0) - 1
    base = tl.cumsum(totals, axis=0) - totals + before
    tl.store(sorted_ptr + tl.sum(tl.where(onehot, rank + base[None, :], 0), axis=1), p, mask=pmask)


@triton.jit
def _group_in_order(e, p, pmask, counts_ptr, sorted_ptr, EP: tl.constexpr):
    """Pairs p (in pair order; e = their experts, EP where pmask is off) grouped by expert, all in one program:
    _scatter_in_order, and the per-expert counts stored."""
    ex = tl.arange(0, EP)
    totals = tl.sum((e[:, None] == ex[None, :]).to(tl.int32), axis=0)
    _scatter_in_order(e, p, pmask, totals, 0, sorted_ptr, EP)
    tl.store(counts_ptr + ex, totals)


@triton.jit(do_not_specialize=["P", "NC"])
def _scatter_kernel(idx_ptr, chunk_counts_ptr, counts_ptr, sorted_ptr, P, NC,
                    CHUNK: tl.constexpr, EP: tl.constexpr, NCP: tl.constexpr, SINGLE: tl.constexpr,
                    PDL: tl.constexpr = False):
    """sorted[expert_start[e] + rank] = pair: expert order, pair order within an expert. SINGLE: one chunk
    holds every pair, so the counts come from this program's own one-hot (no count kernel before it)."""
    wait_for_previous(PDL)
    c = tl.program_id(0)
    p = c * CHUNK + tl.arange(0, CHUNK)
    e = tl.load(idx_ptr + p, mask=p < P, other=EP)
    if SINGLE:
        _group_in_order(e, p, p < P, counts_ptr, sorted_ptr, EP)
    else:
        ex = tl.arange(0, EP)
        chunks = tl.arange(0, NCP)
        cc = tl.load(chunk_counts_ptr + chunks[:, None] * EP + ex[None, :], mask=chunks[:, None] < NC, other=0)
        totals = tl.sum(cc, axis=0)
        _scatter_in_order(e, p, p < P, totals, tl.sum(tl.where(chunks[:, None] < c, cc, 0), axis=0), sorted_ptr, EP)
        if c == 0:
            tl.store(counts_ptr + ex, totals)


@triton.jit
def _tile_rows(counts_ptr, t, BM: tl.constexpr, EP: tl.constexpr):
    """Row tile t of the expert-ordered pairs -> (expert, first row, end row of that expert); expert == EP
    when t is past the last tile."""
    ex = tl.arange(0, EP)
    counts = tl.load(counts_ptr + ex)
    tiles = tl.cdiv(counts, BM)
    tile_end = tl.cumsum(tiles, axis=0)
    e = tl.sum((tile_end <= t).to(tl.int32), axis=0)
    this = ex == e
    first_tile = tl.sum(tl.where(this, tile_end - tiles, 0), axis=0)
    start = tl.sum(tl.where(this, tl.cumsum(counts, axis=0) - counts, 0), axis=0)
    row_end = start + tl.sum(tl.where(this, counts, 0), axis=0)
    return e, start + (t - first_tile) * BM, row_end


def _fp4_word_ptx(w: str, outs: tuple[str, str, str, str], m01: str, m23: str, one_mul: bool) -> str:
    """PTX: 4 packed bytes (w) and their bf16x2 multipliers (m01 for bytes 0-1, m23 for 2-3) -> outs: the low
    nibbles of bytes (0, 1), of (2, 3), the high nibbles of (0, 1), of (2, 3), each as bf16x2. A nibble's sign bit
    moved to bf16's sign and its e2m1 magnitude bits to bf16's two low exponent bits and top mantissa bit encode
    fp4 * 2^-126 exactly (0.5 becomes a bf16 subnormal). Low nibbles: each byte in the low half of its own 16-bit
    lane, shifted by 6 (magnitude) and 12 (sign) and masked once; high nibbles: each byte with its sign byte
    above it (prmt's sign replication), so one shift by 2 puts magnitude and sign in place. The two shifts never
    overlap where the mask keeps bits, and the left shifts can go to the multiply-add pipe (IMAD.SHL), leaving
    two of the four integer-pipe instructions a weight pair took. The multiplier is 2^(s-1) when every scale byte
    is at most 128 (one multiply), else 2^(s-127) after a multiply by 2^126 (c). Each multiply is an fma with -0
    (z; sm_80+: mul.rn.bf16x2 is sm_90's), the same rounded product for every input, +0 and -0 included. Scratch
    registers t0, t1, u, v and the constants c = 0x7E807E80, z = 0x80008000 are the caller's to declare."""
    def mul(out: str, m: str) -> str:
        return f"fma.rn.bf16x2 {out}, u, {m}, z;\n" if one_mul else \
            f"fma.rn.bf16x2 u, u, c, z; fma.rn.bf16x2 {out}, u, {m}, z;\n"

    def low(t: str, out: str, m: str) -> str:  # nibble bits 0-2 -> 6-8, sign bit 3 -> 15
        return f"shl.b32 u, {t}, 6; shl.b32 v, {t}, 12; or.b32 u, u, v; and.b32 u, u, 0x81C081C0; " + mul(out, m)

    def high(t: str, out: str, m: str) -> str:  # nibble bits 4-6 -> 6-8, the sign byte's bit 13 -> 15
        return f"shl.b32 u, {t}, 2; and.b32 u, u, 0x81C081C0; " + mul(out, m)

    return (f"prmt.b32 t0, {w}, 0, 0x4140;\nprmt.b32 t1, {w}, 0, 0x4342;\n"  # lanes (b0, b1), (b2, b3)
            + low("t0", outs[0], m01) + low("t1", outs[1], m23)
            + f"prmt.b32 t0, {w}, 0, 0x9180;\nprmt.b32 t1, {w}, 0, 0xB3A2;\n"  # (sign b0 : b0, sign b1 : b1), ...
            + high("t0", outs[2], m01) + high("t1", outs[3], m23))


FP4_SCRATCH_PTX = ".reg .b32 t0, t1, u, v, c, z;\nmov.b32 c, 0x7E807E80;\nmov.b32 z, 0x80008000;\n"


def _fp4_asm(one_mul: bool) -> str:
    """PTX for 4 packed bytes ($4) and their 4 bf16 multipliers ($5, $6) -> low nibbles ($0, $1) and high
    nibbles ($2, $3) as bf16x2 (_fp4_word_ptx)."""
    return "{\n" + FP4_SCRATCH_PTX + _fp4_word_ptx("$4", ("$0", "$1", "$2", "$3"), "$5", "$6", one_mul) + "}"


def _e4m3_ptx(w: str, out: str) -> str:
    """PTX: the packed word w (8 weights, byte j holding columns 2j and 2j+1) -> f16x2 registers {out}l01,
    {out}h01, {out}l23, {out}h23 holding columns (0, 2), (1, 3), (4, 6), (5, 7) as e2m1 * 2^-6. Each nibble becomes
    an e4m3 byte with the same bits (sign to bit 7, exponent and mantissa bits to 2-4: e4m3's bias 7 against
    e2m1's 1 makes it e2m1 * 2^-6, exact, 0.5 a subnormal), converted two at a time by the hardware (sm_89+).
    Scratch registers t, lo, hi (.b32) and l01, l23, h01, h23 (.b16) are the caller's to declare."""
    return (f"shl.b32 t, {w}, 2; and.b32 lo, t, 0x1C1C1C1C; shl.b32 t, {w}, 4; and.b32 t, t, 0x80808080;"
            f" or.b32 lo, lo, t;\nshr.b32 t, {w}, 2; and.b32 hi, t, 0x1C1C1C1C; and.b32 t, {w}, 0x80808080;"
            f" or.b32 hi, hi, t;\nmov.b32 {{l01, l23}}, lo; mov.b32 {{h01, h23}}, hi;\n"
            f"cvt.rn.f16x2.e4m3x2 {out}l01, l01; cvt.rn.f16x2.e4m3x2 {out}h01, h01;"
            f" cvt.rn.f16x2.e4m3x2 {out}l23, l23; cvt.rn.f16x2.e4m3x2 {out}h23, h23;\n")


def _f16_weights_ptx(w: str, out: str) -> str:
    """_e4m3_ptx's result without the e4m3 conversion (sm_80+): each nibble becomes an f16 high byte with the same
    bits (sign to bit 7, exponent and mantissa bits to 1-3: e2m1 * 2^-14, exact, 0.5 a subnormal), prmt moves two
    bytes into the high halves of an f16x2, and a multiply by 2^8 (c) makes them the same e2m1 * 2^-6 (bit for bit:
    H200, session 11, where it was 5% slower than the conversion). Scratch registers t, lo, hi, c as _fp4_dot_asm
    declares them."""
    return (f"shl.b32 t, {w}, 1; and.b32 lo, t, 0x0E0E0E0E; shl.b32 t, {w}, 4; and.b32 t, t, 0x80808080;"
            f" or.b32 lo, lo, t;\nshr.b32 t, {w}, 3; and.b32 hi, t, 0x0E0E0E0E; and.b32 t, {w}, 0x80808080;"
            f" or.b32 hi, hi, t;\nprmt.b32 {out}l01, lo, 0, 0x1404; prmt.b32 {out}h01, hi, 0, 0x1404;"
            f" prmt.b32 {out}l23, lo, 0, 0x3424; prmt.b32 {out}h23, hi, 0, 0x3424;\n"
            f"mul.rn.f16x2 {out}l01, {out}l01, c; mul.rn.f16x2 {out}h01, {out}h01, c;"
            f" mul.rn.f16x2 {out}l23, {out}l23, c; mul.rn.f16x2 {out}h23, {out}h23, c;\n")


def _fp4_dot_asm(e4m3: bool) -> str:
    """PTX for one 32-weight group: its 4 words of packed weights ($1-$4) and their activations (_plane_index:
    word w's 4 pair words at $5 + 4w .. $8 + 4w) -> the sum of the 32 products in fp16 ($0): each word's 8 in
    its own f16x2 chain of multiply-adds (4 independent chains), the chains added lane-wise, the two lanes once;
    the weights taken as e2m1 * 2^-6 (by the e4m3 conversion, sm_89+, or _f16_weights_ptx) and the scale left
    out (the caller applies both once per group). About 2 instructions per weight."""
    weights = _e4m3_ptx if e4m3 else _f16_weights_ptx
    body = ""
    for w in range(4):
        a = [f"${5 + 4 * w + i}" for i in range(4)]
        body += (weights(f"${1 + w}", "f") + f"mul.rn.f16x2 acc{w}, fl01, {a[0]};"
                 f" fma.rn.f16x2 acc{w}, fh01, {a[1]}, acc{w}; fma.rn.f16x2 acc{w}, fl23, {a[2]}, acc{w};"
                 f" fma.rn.f16x2 acc{w}, fh23, {a[3]}, acc{w};\n")
    return ("{\n.reg .b32 t, lo, hi, c, acc0, acc1, acc2, acc3, fl01, fh01, fl23, fh23;\n"
            ".reg .b16 l01, l23, h01, h23, x, y;\n" + ("" if e4m3 else "mov.b32 c, 0x5C005C00;\n") + body
            + "add.rn.f16x2 acc0, acc0, acc1; add.rn.f16x2 acc2, acc2, acc3; add.rn.f16x2 acc0, acc0, acc2;\n"
            "mov.b32 {x, y}, acc0; add.rn.f16 $0, x, y;\n}")


BLOCK_ROWS = tl.constexpr(16)  # block_rows' layout: 16 rows x 32 bytes (2 scale groups) per contiguous chunk
CHUNK_BYTES = tl.constexpr(32)
_FP4_ASM = tl.constexpr(_fp4_asm(False))
_FP4_ASM_ONE_MUL = tl.constexpr(_fp4_asm(True))
_FP4_DOT_ASM = tl.constexpr(_fp4_dot_asm(True))
_FP4_DOT_F16_ASM = tl.constexpr(_fp4_dot_asm(False))
_FP4_DOT_CONSTRAINTS = tl.constexpr("=h," + ",".join(["r"] * 20))  # a group's fp16 sum; its 4 + 16 words
DOT_WEIGHT_SHIFT = tl.constexpr(6)  # DEQ 3-4's weights are e2m1 * 2^-6 (e4m3 bits): sums of 32 products stay
# finite up to |a| ~ 21k, products stay normal down to |w * a| ~ 2^-8. In gpt-oss neither end is reached: the up
# GEMV reads rmsnorm(a) * g, whose 32 columns of a group sum to at most sqrt(32 * H) * max|g| (303.6 max|g| at
# H = 2880), so its sums stay below 28.5 max|g|, finite for norm weights g up to ~2,300; the down GEMV reads the
# clamped SwiGLU (|h| <= 7 * 8), sums below 170.


@triton.jit
def _fp4_to_float(nib):
    """Portable e2m1 -> fp32 (interpreter, fp16/fp32 activations): the bits dropped into fp16's sign, exponent
    and mantissa give fp4 * 2^-14 exactly (0.5 as an fp16 subnormal)."""
    nib = nib.to(tl.uint16)
    return (((nib & 7) << 9) | ((nib & 8) << 12)).to(tl.float16, bitcast=True).to(tl.float32) * 16384.0


@triton.jit
def _scales(scales_ptr, n, nmask, k0, K, stride_sn, BN: tl.constexpr, BK: tl.constexpr, S32: tl.constexpr,
            MASK_K: tl.constexpr):
    """e8m0 scale bytes [BN, BK/32] of rows n for columns k0:k0+BK (MASK_K: 127 at and past K; only where a
    tile may reach K, since the mask costs every K step instructions: T=8 up 110.6 -> 115.0 us).
    S32: rows padded to 4 bytes, one aligned 32-bit load per row brings 4 groups (128 columns)."""
    mask = nmask[:, None]
    if S32:
        w = k0 // 128 + tl.arange(0, BK // 128)
        if MASK_K:
            mask &= (w * 128 < K)[None, :]
        words = tl.load(scales_ptr.to(tl.pointer_type(tl.int32)) + n[:, None] * (stride_sn // 4) + w[None, :],
                        mask=mask, other=0)
        s = ((words[:, :, None] >> (8 * tl.arange(0, 4))[None, None, :]) & 0xFF).reshape([BN, BK // 32])
        s = s.to(tl.uint8)
    else:
        kg = k0 // 32 + tl.arange(0, BK // 32)
        if MASK_K:
            mask &= (kg < K // 32)[None, :]
        s = tl.load(scales_ptr + n[:, None] * stride_sn + kg[None, :], mask=mask, other=127)
    return s


@triton.jit
def _packed_offsets(n, kb, stride_bn, BLOCKED: tl.constexpr, CHUNK: tl.constexpr = CHUNK_BYTES):
    """Offsets of rows n, row units kb in an expert's packed weights: row-major rows, or block_rows' layout
    (16-row blocks, each stored as consecutive 512-byte chunks of 32 bytes per row). Units of bytes, or of
    32-bit words (stride_bn in words, CHUNK = CHUNK_BYTES / 4)."""
    if BLOCKED:
        return ((n // BLOCK_ROWS)[:, None] * stride_bn + (kb // CHUNK)[None, :] * (BLOCK_ROWS * CHUNK)
                + (n % BLOCK_ROWS)[:, None] * CHUNK + (kb % CHUNK)[None, :])
    return n[:, None] * stride_bn + kb[None, :]


@triton.jit
def _mxfp4_tile(blocks_ptr, scales_ptr, s_given, n, nmask, k0, K, stride_bn, stride_sn,
                BN: tl.constexpr, BK: tl.constexpr, DTYPE: tl.constexpr, DEQ: tl.constexpr, S32: tl.constexpr,
                S_GIVEN: tl.constexpr, MASK_K: tl.constexpr, BLOCKED: tl.constexpr):
    """Weight rows n, columns k0:k0+BK of one expert, dequantized in registers -> (even columns, odd columns),
    each [BN, BK/2] DTYPE: byte j holds column 2j in its low nibble and 2j+1 in its high nibble. The scale bytes
    are loaded here after the packed bytes, or given (S_GIVEN: s_given, loaded earlier by the caller).
    DEQ: 0 portable (interpreter, fp16/fp32), 1 PTX for bf16, 2 PTX for bf16 when every scale byte is <= 128.
    BLOCKED: the packed bytes are stored as block_rows lays them out; stride_bn is then a 16-row block's stride."""
    packed = _packed_bytes(blocks_ptr, n, nmask, k0, K, stride_bn, BK, MASK_K, BLOCKED)
    if S_GIVEN:
        s = s_given
    else:
        s = _scales(scales_ptr, n, nmask, k0, K, stride_sn, BN, BK, S32, MASK_K)
    return _dequant(packed, s, BN, BK, DTYPE, DEQ)


@triton.jit
def _packed_bytes(blocks_ptr, n, nmask, k0, K, stride_bn, BK: tl.constexpr, MASK_K: tl.constexpr,
                  BLOCKED: tl.constexpr):
    """The packed bytes [BN, BK/2] of rows n, columns k0:k0+BK."""
    kb = k0 // 2 + tl.arange(0, BK // 2)
    bmask = nmask[:, None]
    if MASK_K:  # only the tail tile: a mask that varies along a row stops the loads from vectorizing
        bmask &= (kb < K // 2)[None, :]
    return tl.load(blocks_ptr + _packed_offsets(n, kb, stride_bn, BLOCKED), mask=bmask, other=0)


@triton.jit
def _dequant(packed, s, BN: tl.constexpr, BK: tl.constexpr, DTYPE: tl.constexpr, DEQ: tl.constexpr):
    """Packed bytes [BN, BK/2] and their scale bytes [BN, BK/32] -> (even columns, odd columns) of DTYPE."""
    if DEQ == 0:
        scale = (s.to(tl.int32) << 23).to(tl.float32, bitcast=True)[:, :, None]  # 2^(s-127)
        lo = (_fp4_to_float(packed & 0xF).reshape([BN, BK // 32, 16]) * scale).reshape([BN, BK // 2]).to(DTYPE)
        hi = (_fp4_to_float(packed >> 4).reshape([BN, BK // 32, 16]) * scale).reshape([BN, BK // 2]).to(DTYPE)
    else:
        # bf16 bits of the multiplier, once per 32-weight group: 2^(s-1) or 2^(s-127)
        m = ((s.to(tl.int16) + (126 if DEQ == 2 else 0)) << 7).to(tl.bfloat16, bitcast=True)
        m = tl.broadcast_to(m[:, :, None], [BN, BK // 32, 16]).reshape([BN, BK // 2])
        if DEQ == 2:
            lo, hi = tl.inline_asm_elementwise(_FP4_ASM_ONE_MUL, "=r,=r,=r,=r,r,r,r", [packed, m],
                                               dtype=(tl.bfloat16, tl.bfloat16), is_pure=True, pack=4)
        else:
            lo, hi = tl.inline_asm_elementwise(_FP4_ASM, "=r,=r,=r,=r,r,r,r", [packed, m],
                                               dtype=(tl.bfloat16, tl.bfloat16), is_pure=True, pack=4)
    return lo, hi


@triton.jit
def _mxfp4_step(acc, a_row_ptr, rmask, blocks_ptr, scales_ptr, s_given, n, nmask, k0, K, stride_bn,
                stride_sn, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
                DEQ: tl.constexpr, SWAP: tl.constexpr, S32: tl.constexpr, S_GIVEN: tl.constexpr,
                MASK_K: tl.constexpr, BLOCKED: tl.constexpr):
    kk = k0 + tl.arange(0, BK)
    amask = rmask[:, None]
    if MASK_K:
        amask &= (kk < K)[None, :]
    a = tl.load(a_row_ptr + kk[None, :], mask=amask, other=0.0)
    a_even, a_odd = a.reshape([BM, BK // 2, 2]).split()
    lo, hi = _mxfp4_tile(blocks_ptr, scales_ptr, s_given, n, nmask, k0, K, stride_bn, stride_sn, BN,
                         BK, a.dtype, DEQ, S32, S_GIVEN, MASK_K, BLOCKED)
    if SWAP:  # acc [BN, BM]: the weights are the MMA's first operand, the few activation rows the second
        acc = tl.dot(lo, tl.trans(a_even), acc, input_precision=PREC)
        acc = tl.dot(hi, tl.trans(a_odd), acc, input_precision=PREC)
    else:
        acc = tl.dot(a_even, tl.trans(lo), acc, input_precision=PREC)
        acc = tl.dot(a_odd, tl.trans(hi), acc, input_precision=PREC)
    return acc


@triton.jit
def _mxfp4_matmul(a_ptr, a_rows, rmask, stride_a, blocks_ptr, scales_ptr, n, nmask, k_lo, k_hi,
                  stride_bn, stride_sn, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                  PREC: tl.constexpr, DEQ: tl.constexpr, SWAP: tl.constexpr, S32: tl.constexpr,
                  AHEAD: tl.constexpr, EARLY: tl.constexpr, BLOCKED: tl.constexpr):
    """a[a_rows, k_lo:k_hi] @ W[n, k_lo:k_hi]^T with W in MXFP4 -> [BM, BN] fp32; even and odd columns as two
    dots. k_lo and k_hi are multiples of 32 (k_hi the end of the tail tile's mask). SWAP computes the
    transpose (W @ a^T), which suits decode: a handful of rows, padded to the MMA's narrow side.
    EARLY: each K step's scales are loaded first, before its activations and packed bytes (else after them).
    AHEAD: each K step's scales are loaded one step earlier (the pipeliner leaves byte loads synchronous, so the
    dequantization waits on them): 8192 tokens, down tile 1637 -> 1452 us; decode tiles lose (T=1 51 -> 58 us)."""
    if SWAP:
        acc = tl.zeros([BN, BM], tl.float32)
    else:
        acc = tl.zeros([BM, BN], tl.float32)
    a_row_ptr = a_ptr + a_rows[:, None].to(tl.int64) * stride_a
    k_full = k_lo + (k_hi - k_lo) // BK * BK
    s = 0
    if AHEAD:
        s = _scales(scales_ptr, n, nmask, k_lo, k_hi, stride_sn, BN, BK, S32, True)
    for k0 in range(k_lo, k_full, BK):
        s_k = s
        if AHEAD:
            s_next = _scales(scales_ptr, n, nmask, k0 + BK, k_hi, stride_sn, BN, BK, S32, True)
        elif EARLY:
            s_k = _scales(scales_ptr, n, nmask, k0, k_hi, stride_sn, BN, BK, S32, False)
        acc = _mxfp4_step(acc, a_row_ptr, rmask, blocks_ptr, scales_ptr, s_k, n, nmask, k0, k_hi,
                          stride_bn, stride_sn, BM, BN, BK, PREC, DEQ, SWAP, S32, AHEAD or EARLY, False, BLOCKED)
        if AHEAD:
            s = s_next
    if k_full < k_hi:
        acc = _mxfp4_step(acc, a_row_ptr, rmask, blocks_ptr, scales_ptr, s, n, nmask, k_full, k_hi,
                          stride_bn, stride_sn, BM, BN, BK, PREC, DEQ, SWAP, S32, AHEAD, True, BLOCKED)
    if SWAP:
        acc = tl.trans(acc)
    return acc


@triton.jit
def _expert_split_matmul(a_ptr, a_rows, rmask, stride_a, wb_ptr, ws_ptr, b_ptr, e, n, nmask, K, K_CHUNK, stride_wbe,
                         stride_wbn, stride_wse, stride_wsn, stride_be, BM: tl.constexpr, BN: tl.constexpr,
                         BK: tl.constexpr, PREC: tl.constexpr, DEQ: tl.constexpr, SWAP: tl.constexpr,
                         S32: tl.constexpr, AHEAD: tl.constexpr, EARLY: tl.constexpr, BLOCKED: tl.constexpr):
    """Expert e's rows n over this program's K split (program_id(2)) -> [BM, BN] fp32, the bias added in split 0
    only (the splits are summed later)."""
    e64 = e.to(tl.int64)
    sp = tl.program_id(2)
    k_lo = tl.multiple_of(sp * K_CHUNK, BK)  # K_CHUNK is a multiple of BK: keeps the 16-byte vector loads
    acc = _mxfp4_matmul(a_ptr, a_rows, rmask, stride_a, wb_ptr + e64 * stride_wbe, ws_ptr + e64 * stride_wse, n,
                        nmask, k_lo, tl.minimum(k_lo + K_CHUNK, K), stride_wbn, stride_wsn, BM, BN, BK, PREC, DEQ,
                        SWAP, S32, AHEAD, EARLY, BLOCKED)
    bias = tl.load(b_ptr + e64 * stride_be + n, mask=nmask, other=0.0).to(tl.float32)
    return acc + tl.where(sp == 0, bias, 0.0)[None, :]


@triton.jit
def _swiglu(gate, up, limit, alpha):
    """gpt-oss's clamped SwiGLU on fp32 gate and up halves."""
    gate = tl.minimum(gate, limit)
    up = tl.minimum(tl.maximum(up, -limit), limit)
    return gate * tl.sigmoid(alpha * gate) * (up + 1.0)


@triton.jit(do_not_specialize=["P"])
def _moe_up_kernel(x_ptr, sorted_ptr, counts_ptr, wb_ptr, ws_ptr, b_ptr, h_ptr, K, N, E, P, K_CHUNK,
                   stride_x, stride_wbe, stride_wbn, stride_wse, stride_wsn, stride_be, limit, alpha,
                   TOPK: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, EP: tl.constexpr,
                   PREC: tl.constexpr, DEQ: tl.constexpr, SWAP: tl.constexpr,
                   S32: tl.constexpr, AHEAD: tl.constexpr, EARLY: tl.constexpr, SPLIT: tl.constexpr,
                   BLOCKED: tl.constexpr, PDL: tl.constexpr = False):
    """Program (N tile, row tile, K split) -> h[rows, N tile / 2] after bias and SwiGLU; with SPLIT > 1 the fp32
    sums over its K split (bias in split 0) -> h[split, rows, N tile] instead, finished by _swiglu_splits_kernel
    (decode: twice the programs in flight for the same tile)."""
    wait_for_previous(PDL)
    e, row0, row_end = _tile_rows(counts_ptr, tl.program_id(1), BM, EP)
    if e >= E:
        return
    rows = row0 + tl.arange(0, BM)
    rmask = rows < row_end
    tok = tl.load(sorted_ptr + rows, mask=rmask, other=0) // TOPK
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    acc = _expert_split_matmul(x_ptr, tok, rmask, stride_x, wb_ptr, ws_ptr, b_ptr, e, n, nmask, K, K_CHUNK,
                               stride_wbe, stride_wbn, stride_wse, stride_wsn, stride_be, BM, BN, BK, PREC, DEQ,
                               SWAP, S32, AHEAD, EARLY, BLOCKED)
    if SPLIT > 1:
        tl.store(h_ptr + (tl.program_id(2) * P + rows[:, None]).to(tl.int64) * N + n[None, :], acc,
                 mask=rmask[:, None] & nmask[None, :])
        return
    gate, up = acc.reshape([BM, BN // 2, 2]).split()  # even columns gate, odd columns up
    cols = tl.program_id(0) * (BN // 2) + tl.arange(0, BN // 2)
    tl.store(h_ptr + rows[:, None].to(tl.int64) * (N // 2) + cols[None, :],
             _swiglu(gate, up, limit, alpha).to(h_ptr.dtype.element_ty),
             mask=rmask[:, None] & (cols < N // 2)[None, :])


@triton.jit(do_not_specialize=["P"])
def _swiglu_splits_kernel(part_ptr, h_ptr, I, P, limit, alpha, SPLIT: tl.constexpr, BLOCK: tl.constexpr,
                          PDL: tl.constexpr = False):
    """h[row, cols] = SwiGLU of the up GEMM's K splits summed in split order (deterministic)."""
    wait_for_previous(PDL)
    row = tl.program_id(0).to(tl.int64)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < I
    gate = tl.zeros([BLOCK], tl.float32)
    up = tl.zeros([BLOCK], tl.float32)
    for sp in tl.static_range(SPLIT):
        base = part_ptr + (sp * P + row) * (2 * I)
        gate += tl.load(base + 2 * cols, mask=mask, other=0.0)
        up += tl.load(base + 2 * cols + 1, mask=mask, other=0.0)
    tl.store(h_ptr + row * I + cols, _swiglu(gate, up, limit, alpha).to(h_ptr.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["P"])
def _moe_down_kernel(h_ptr, sorted_ptr, counts_ptr, route_w_ptr, wb_ptr, ws_ptr, b_ptr, y_ptr, K, N, E, P,
                     K_CHUNK,
                     stride_wbe, stride_wbn, stride_wse, stride_wsn, stride_be,
                     BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, EP: tl.constexpr, PREC: tl.constexpr,
                     DEQ: tl.constexpr, SWAP: tl.constexpr, S32: tl.constexpr,
                     AHEAD: tl.constexpr, EARLY: tl.constexpr, BLOCKED: tl.constexpr, PDL: tl.constexpr = False):
    """Program (N tile, row tile, K split) -> y[split, pair, N tile] (split-K keeps the weight stream wide when
    decode has few row tiles; the bias goes into split 0 only)."""
    wait_for_previous(PDL)
    e, row0, row_end = _tile_rows(counts_ptr, tl.program_id(1), BM, EP)
    if e >= E:
        return
    rows = row0 + tl.arange(0, BM)
    rmask = rows < row_end
    pair = tl.load(sorted_ptr + rows, mask=rmask, other=0)
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    acc = _expert_split_matmul(h_ptr, rows, rmask, K, wb_ptr, ws_ptr, b_ptr, e, n, nmask, K, K_CHUNK, stride_wbe,
                               stride_wbn, stride_wse, stride_wsn, stride_be, BM, BN, BK, PREC, DEQ, SWAP, S32,
                               AHEAD, EARLY, BLOCKED)
    acc *= tl.load(route_w_ptr + pair, mask=rmask, other=0.0)[:, None]
    tl.store(y_ptr + (tl.program_id(2) * P + pair[:, None]).to(tl.int64) * N + n[None, :],
             acc.to(y_ptr.dtype.element_ty),
             mask=rmask[:, None] & nmask[None, :])


@triton.jit
def _plane_index(c):
    """Index (fp16 units) of column c in a row's activation planes: each 8-column word's columns in the order
    0, 2, 1, 3, 4, 6, 5, 7, so its 4 pair words are the activation operands of _fp4_dot_asm for
    that word's weights (low nibbles (0, 2), high (1, 3), then (4, 6), (5, 7)), one 16-byte load."""
    r = c % 8
    return c - r + (r & 4) + (r & 1) * 2 + (r >> 1 & 1)


@triton.jit
def _planes_kernel(x_ptr, planes_ptr, K, stride_x, KB: tl.constexpr, PDL: tl.constexpr = False):
    """Row program_id(0) of x -> its activation planes (fp16), for the DEQ 3-4 GEMVs."""
    wait_for_previous(PDL)
    r = tl.program_id(0).to(tl.int64)
    c = tl.arange(0, KB)
    x = tl.load(x_ptr + r * stride_x + c, mask=c < K, other=0.0)
    tl.store(planes_ptr + r * K + _plane_index(c), _plane_values(x), mask=c < K)


@triton.jit
def _plane_values(x):
    """The planes' values: x in fp16 (unscaled since the weights carry the 2^-6, DOT_WEIGHT_SHIFT)."""
    return x.to(tl.float16)


@triton.jit
def _gemv_step(acc, a_ptr, blocks_ptr, scales_ptr, n, nmask, k0, K, stride_bn, stride_sn, BN: tl.constexpr,
               BK: tl.constexpr, DEQ: tl.constexpr, MASK_K: tl.constexpr, BLOCKED: tl.constexpr,
               PIPE: tl.constexpr, S32: tl.constexpr):
    """acc + the dequantized weights of columns k0:k0+BK times their activations (MASK_K: the tail)."""
    return _gemv_dot(acc, _gemv_operands(a_ptr, blocks_ptr, scales_ptr, n, nmask, k0, K, stride_bn, stride_sn, BN, BK,
                                         DEQ, MASK_K, BLOCKED, PIPE, S32), BN, BK, DEQ)


@triton.jit
def _gemv_operands(a_ptr, blocks_ptr, scales_ptr, n, nmask, k0, K, stride_bn, stride_sn, BN: tl.constexpr,
                   BK: tl.constexpr, DEQ: tl.constexpr, MASK_K: tl.constexpr, BLOCKED: tl.constexpr,
                   PIPE: tl.constexpr, S32: tl.constexpr):
    """The loads of a GEMV step (columns k0:k0+BK; MASK_K: the tail), for _gemv_dot.
    DEQ 3-4: (the packed weights as 32-bit words [BN, BK/8] of 8 weights each, their scale bytes [BN, BK/32], and
    the 4 tensors [BN, BK/8] of the row's activation-plane words at a_ptr that are _fp4_dot_asm's operands).
    Else portable (interpreter, fp16/fp32 activations at a_ptr): (activations [BK], packed bytes, scale bytes).
    PIPE > 1 (the loop's loads copied ahead): the planes come from one 1-D load, S32: the scales as words."""
    if DEQ >= 3:
        j = k0 // 8 + tl.arange(0, BK // 8)  # word index in the row
        kmask = (j < K // 8)[None, :]  # the tail's columns, for the weights and the planes
        mask = nmask[:, None]
        if MASK_K:
            mask &= kmask
        w = tl.load(blocks_ptr.to(tl.pointer_type(tl.int32)) + _packed_offsets(n, j, stride_bn // 4, BLOCKED,
                                                                                  CHUNK_BYTES // 4), mask=mask, other=0)
        s = _scales(scales_ptr, n, nmask, k0, K, stride_sn, BN, BK, S32, MASK_K)
        if PIPE > 1 and not MASK_K:
            p0, p1, p2, p3 = _step_planes(a_ptr, k0, BN, BK)
        else:
            pairs = _pair_words(a_ptr, j, n)
            p0, p1 = _plane_words(pairs, kmask, MASK_K), _plane_words(pairs + 4, kmask, MASK_K)
            p2, p3 = _plane_words(pairs + 8, kmask, MASK_K), _plane_words(pairs + 12, kmask, MASK_K)
        return w, s, p0, p1, p2, p3
    else:
        kk = k0 + tl.arange(0, BK)
        if MASK_K:
            a = tl.load(a_ptr + kk, mask=kk < K, other=0.0)
        else:
            a = tl.load(a_ptr + kk)
        packed = _packed_bytes(blocks_ptr, n, nmask, k0, K, stride_bn, BK, MASK_K, BLOCKED)
        return a, packed, _scales(scales_ptr, n, nmask, k0, K, stride_sn, BN, BK, False, MASK_K)


@triton.jit
def _gemv_dot(acc, operands, BN: tl.constexpr, BK: tl.constexpr, DEQ: tl.constexpr):
    """acc + one step's products from _gemv_operands' loads. DEQ 3 (4): _fp4_dot_asm's fp16 sum per 32-weight
    group (the weights by the e4m3 conversion, or by prmt for GPUs without it), each group scaled in fp32 into
    acc [BN, BK/32]. Else portable: acc [BN, BK/2]."""
    if DEQ >= 3:
        w, s, p0, p1, p2, p3 = operands
        w0, w1, w2, w3 = _group_words(w, BN, BK)
        a00, a01, a02, a03 = _group_words(p0, BN, BK)  # a{w}{i}: pair word i of the group's word w (p{w})
        a10, a11, a12, a13 = _group_words(p1, BN, BK)
        a20, a21, a22, a23 = _group_words(p2, BN, BK)
        a30, a31, a32, a33 = _group_words(p3, BN, BK)
        group = tl.inline_asm_elementwise(_FP4_DOT_ASM if DEQ == 3 else _FP4_DOT_F16_ASM, _FP4_DOT_CONSTRAINTS,
                                          [w0, w1, w2, w3, a00, a01, a02, a03, a10, a11, a12, a13,
                                           a20, a21, a22, a23, a30, a31, a32, a33],
                                          dtype=tl.float16, is_pure=True, pack=1)
        scale = ((s.to(tl.int32) + DOT_WEIGHT_SHIFT) << 23).to(tl.float32, bitcast=True)  # 2^(s-127) * 2^6
        acc += group.to(tl.float32) * scale
    else:
        a, packed, s = operands
        a_even, a_odd = a.to(tl.float32).reshape([BK // 2, 2]).split()
        lo, hi = _dequant(packed, s, BN, BK, tl.float32, 0)
        acc += lo.to(tl.float32) * a_even[None, :] + hi.to(tl.float32) * a_odd[None, :]
    return acc


@triton.jit
def _group_words(t, BN: tl.constexpr, BK: tl.constexpr):
    """Words [BN, BK / 8] -> the 4 tensors [BN, BK / 32] of each 32-column group's words 0, 1, 2, 3 (one thread
    holds a group's 4 words: register renames, no moves)."""
    even, odd = t.reshape([BN, BK // 32, 2, 2]).split()  # [.., g, i, j]: word 4g + 2i + j
    w0, w2 = even.split()
    w1, w3 = odd.split()
    return w0, w1, w2, w3


@triton.jit
def _step_planes(a_ptr, k0, BN: tl.constexpr, BK: tl.constexpr):
    """The 4 operand tensors [BN, BK/8] that _pair_words' loads give for the step at k0 (a multiple of 32), from
    one 1-D load of its BK/2 plane words: Triton's pipeliner copies that into shared memory a step or more ahead (one
    16-byte copy per thread), where _pair_words' loads, broadcast over the rows, would be copied once per row."""
    p = tl.load(a_ptr.to(tl.pointer_type(tl.int32)) + k0 // 2 + tl.arange(0, BK // 2))
    p = tl.permute(p.reshape([BK // 32, 4, 4]), (0, 2, 1)).reshape([BK // 8, 2, 2])  # [word, pair // 2, pair % 2]
    even, odd = tl.split(p)
    p0, p2 = tl.split(even)
    p1, p3 = tl.split(odd)
    return (tl.broadcast_to(p0[None, :], [BN, BK // 8]), tl.broadcast_to(p1[None, :], [BN, BK // 8]),
            tl.broadcast_to(p2[None, :], [BN, BK // 8]), tl.broadcast_to(p3[None, :], [BN, BK // 8]))


@triton.jit
def _pair_words(a_ptr, j, rows):
    """Pointers [rows, words j] into the activation planes: element j at pair j % 4 of word j - j % 4, the first of
    the 4 words one lane's PTX call takes, so those 4 elements load that word's 4 pairs in one 16-byte load; + 4 * w:
    word w's. Broadcast over the rows (in the weights' layout: no shuffle through shared memory; LLVM keeps one load
    per lane for all its rows)."""
    return a_ptr.to(tl.pointer_type(tl.int32)) + (j // 4 * 16 + j % 4)[None, :] + 0 * rows[:, None]  # 16-byte loads


@triton.jit
def _plane_words(ptr, kmask, MASK_K: tl.constexpr):
    if MASK_K:
        words = tl.load(ptr, mask=kmask, other=0)
    else:
        words = tl.load(ptr)
    return words


@triton.jit
def _gemv_mxfp4(a_ptr, blocks_ptr, scales_ptr, n, nmask, K, stride_bn, stride_sn, BN: tl.constexpr,
                BK: tl.constexpr, DEQ: tl.constexpr, BLOCKED: tl.constexpr, PIPE: tl.constexpr,
                S32: tl.constexpr, BKT: tl.constexpr):
    """a[0:K] . W[n, 0:K] for one activation row -> [BN] fp32 on CUDA cores. One row wastes 15 of an MMA's 16
    rows and sends the dequantized operand through shared memory; here each thread multiplies its dequantized
    weights in registers into partial sums, reduced across threads once at the end. DEQ: 0 portable (a_ptr: the
    activations), or 3-4 (bf16 on the GPU; a_ptr: the row's activation planes, _plane_index): fp16 products,
    about 2.7 SASS instructions per weight against 6.5 for the bf16 dequantization the MMA tiles use.
    PIPE: stages of the K loop's loads (tl.range's num_stages pipelines loads that feed no tl.dot; 1: none).
    BKT: a pipelined loop's K tail past its last whole BK (_tail_width; 0: none), whose operands it asks for, in a
    step of BKT columns, before it starts: every program's last step would otherwise wait a whole memory round trip
    after the loop (H200, one token's up GEMV: 14.16 -> 13.85 us). An unpipelined loop ends with a masked BK step."""
    acc = tl.zeros([BN, BK // 32 if DEQ >= 3 else BK // 2], tl.float32)
    k_full = K // BK * BK
    if PIPE > 1 and BKT > 0:
        tail = _gemv_operands(a_ptr, blocks_ptr, scales_ptr, n, nmask, k_full, K, stride_bn, stride_sn, BN, BKT, DEQ,
                              True, BLOCKED, 1, S32 and BKT % 128 == 0)
    for k0 in tl.range(0, k_full, BK, num_stages=PIPE):
        acc = _gemv_step(acc, a_ptr, blocks_ptr, scales_ptr, n, nmask, k0, K, stride_bn, stride_sn, BN, BK, DEQ,
                         False, BLOCKED, PIPE, S32)
    if PIPE == 1 and k_full < K:
        acc = _gemv_step(acc, a_ptr, blocks_ptr, scales_ptr, n, nmask, k_full, K, stride_bn, stride_sn, BN, BK,
                         DEQ, True, BLOCKED, PIPE, S32)
    total = tl.sum(acc, axis=1)
    if PIPE > 1 and BKT > 0:
        total += tl.sum(_gemv_dot(tl.zeros([BN, BKT // 32 if DEQ >= 3 else BKT // 2], tl.float32), tail, BN, BKT,
                                  DEQ), axis=1)
    return total


@triton.jit
def _gemv_pair(idx_ptr, a_row_ptr, wb_ptr, ws_ptr, b_ptr, K, N, stride_wbe, stride_wbn, stride_wse,
               stride_wsn, stride_be, BN: tl.constexpr, BK: tl.constexpr, DEQ: tl.constexpr,
               BLOCKED: tl.constexpr, PIPE: tl.constexpr, S32: tl.constexpr, BKT: tl.constexpr):
    """Pair program_id(1)'s expert (read from the route's idx: no grouping) times the activation row at
    a_row_ptr (DEQ 3-4: its planes), rows program_id(0) * BN + [0, BN), + bias -> (fp32 [BN], n, nmask).
    A pipelined loop asks for the bias first (in flight during the loop, not waited for after it); an unpipelined
    one after (two tokens at 8/512: 48.2 -> 50.4 us whole call with the bias and its tail step first)."""
    p = tl.program_id(1)
    e = tl.load(idx_ptr + p).to(tl.int64)
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    if PIPE > 1:
        bias = tl.load(b_ptr + e * stride_be + n, mask=nmask, other=0.0)
    acc = _gemv_mxfp4(a_row_ptr, wb_ptr + e * stride_wbe, ws_ptr + e * stride_wse, n, nmask, K,
                      stride_wbn, stride_wsn, BN, BK, DEQ, BLOCKED, PIPE, S32, BKT)
    if PIPE == 1:
        bias = tl.load(b_ptr + e * stride_be + n, mask=nmask, other=0.0)
    return acc + bias.to(tl.float32), n, nmask


@triton.jit
def _moe_up_gemv_kernel(x_ptr, idx_ptr, wb_ptr, ws_ptr, b_ptr, h_ptr, K, N, stride_x, stride_wbe, stride_wbn,
                        stride_wse, stride_wsn, stride_be, limit, alpha, TOPK: tl.constexpr, BN: tl.constexpr,
                        BK: tl.constexpr, DEQ: tl.constexpr, BLOCKED: tl.constexpr, PIPE: tl.constexpr,
                        S32: tl.constexpr, BKT: tl.constexpr, PDL: tl.constexpr = False):
    """Program (N tile, pair) -> h[pair, N tile / 2]: the pair's token row through its expert's gate/up rows,
    bias and SwiGLU. DEQ 3-4: x holds the tokens' activation planes, and h is stored as planes for the down GEMV
    (rounded to bf16 first, as the other paths store h)."""
    wait_for_previous(PDL)
    p = tl.program_id(1)
    acc, n, nmask = _gemv_pair(idx_ptr, x_ptr + (p // TOPK).to(tl.int64) * stride_x, wb_ptr, ws_ptr, b_ptr, K, N,
                               stride_wbe, stride_wbn, stride_wse, stride_wsn, stride_be, BN, BK, DEQ, BLOCKED,
                               PIPE, S32, BKT)
    gate, up = acc.reshape([BN // 2, 2]).split()  # even rows gate, odd rows up
    cols = tl.program_id(0) * (BN // 2) + tl.arange(0, BN // 2)
    h = _swiglu(gate, up, limit, alpha)
    if DEQ >= 3:
        tl.store(h_ptr + p.to(tl.int64) * (N // 2) + _plane_index(cols), _plane_values(h.to(tl.bfloat16)),
                 mask=cols < N // 2)
    else:
        tl.store(h_ptr + p.to(tl.int64) * (N // 2) + cols, h.to(h_ptr.dtype.element_ty), mask=cols < N // 2)


@triton.jit
def _moe_down_gemv_kernel(h_ptr, idx_ptr, route_w_ptr, wb_ptr, ws_ptr, b_ptr, y_ptr, K, N, stride_wbe, stride_wbn,
                          stride_wse, stride_wsn, stride_be, BN: tl.constexpr, BK: tl.constexpr, DEQ: tl.constexpr,
                          BLOCKED: tl.constexpr, PIPE: tl.constexpr, S32: tl.constexpr, BKT: tl.constexpr,
                          PDL: tl.constexpr = False):
    """Program (N tile, pair) -> y[pair, N tile]: the pair's h row (DEQ 3-4: its planes) through its expert's down
    rows, bias, times the pair's routing weight."""
    wait_for_previous(PDL)
    p = tl.program_id(1).to(tl.int64)
    acc, n, nmask = _gemv_pair(idx_ptr, h_ptr + p * K, wb_ptr, ws_ptr, b_ptr, K, N, stride_wbe, stride_wbn,
                               stride_wse, stride_wsn, stride_be, BN, BK, DEQ, BLOCKED, PIPE, S32, BKT)
    tl.store(y_ptr + p * N + n, (acc * tl.load(route_w_ptr + p)).to(y_ptr.dtype.element_ty), mask=nmask)


@triton.jit(do_not_specialize=["P"])
def _sum_k_kernel(y_ptr, out_ptr, N, P, SPLIT: tl.constexpr, TOPK: tl.constexpr, BLOCK: tl.constexpr,
                  PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    t = tl.program_id(0).to(tl.int64)
    n = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = n < N
    total = norm_triton.sum_pairs(y_ptr, t, n, mask, N, P, SPLIT, TOPK)
    tl.store(out_ptr + t * N + n, total.to(out_ptr.dtype.element_ty), mask=mask)


def _group_pairs(idx: torch.Tensor, EP: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(pairs per expert [EP], pair ids in expert order [P]) of the routed experts idx [T, k]: counted per chunk,
    then scattered (one kernel when one chunk holds every pair; no host sync, so decode can be graph-captured)."""
    flat = idx.reshape(-1).contiguous()
    P, dev = flat.numel(), flat.device
    chunk = min(max(16, triton.next_power_of_2(P)), max(16, 8192 // EP))
    nc = triton.cdiv(P, chunk)
    counts = torch.empty(EP, dtype=torch.int32, device=dev)
    sorted_pairs = torch.empty(P, dtype=torch.int32, device=dev)
    chunk_counts = counts  # one chunk (every decode step): the scatter kernel counts by itself
    if nc > 1:
        chunk_counts = torch.empty((nc, EP), dtype=torch.int32, device=dev)
        _count_kernel[(nc,)](flat, chunk_counts, P, CHUNK=chunk, EP=EP, **launch_options(dev))
    _scatter_kernel[(nc,)](flat, chunk_counts, counts, sorted_pairs, P, nc, CHUNK=chunk, EP=EP,
                           NCP=triton.next_power_of_2(nc), SINGLE=nc == 1, **launch_options(dev))
    return counts, sorted_pairs


def _tail_width(K: int, bk: int) -> int:
    """Columns of a pipelined GEMV's tail step (_gemv_mxfp4's BKT): the power of two that covers K past its last
    whole bk (0: none)."""
    return triton.next_power_of_2(K % bk) if K % bk else 0


GEMV_PAIRS = 8  # up to 2 tokens: few rows per expert, and experts rarely shared


def _configs(pairs: int, num_experts: int, dtype: torch.dtype, device: torch.device) -> tuple[dict, dict]:
    """(up, down) tile configs, picked by `python -m moechat.kernels.bench --sweep moe` on an H100, later ones on an
    H200 with `bench/moe_module_ab.py --tile` (bench/NOTES.md).
    Decode (a row or a few per expert): a 16-row tile and narrow N tiles spread the weight stream over every SM;
    a few dozen rows per expert: mid tiles; prefill: big tiles for tensor-core reuse. Up to GEMV_PAIRS pairs:
    CUDA-core GEMVs (moe_pairs' GEMV path). A config's WGMMA entry, where moe_wgmma.fits, runs the Gluon kernels
    instead of the Triton tiles (sm_90 with row-major experts, the H200: from 3 tokens to 256 rows per expert)."""
    if pairs <= GEMV_PAIRS:
        if device.type != "cuda":  # the tests' K of 64 and 96: a loop and a tail
            gemv = dict(GEMV=True, BN=16, BK=64, num_warps=1, num_stages=1)
            return gemv, gemv
        # H100, T=1: 39.7 us a layer (graph, 4 layers cycled) against 45.8 for the MMA tiles below; T=2 70.5 / 74.8;
        # one warp per program (no barrier in the activations' layout change): up 26.3 -> 24.3 us. H200, fp16
        # products: 8-row programs (twice the programs, so twice the loads in flight) with long K steps, T=1
        # up 23.2 -> 22.3, down 13.4 -> 12.9 us; T=2 up 41.3 -> 37.2, down 23.9 -> 23.1. Words and activation
        # planes (H200, session 8): up 21.4 (8/256: 23.6), down 12.4 (8/1024 now 19.4: 255 registers), T=2 36.2 / 21.1.
        # One token's up GEMV (H200, session 10): 2,880 8-row programs at 96 registers were 1.09 waves; 16-row ones
        # with 256-column steps keep 96 registers in one wave of 1,440: engine 18.17 -> 16.66 us (T=2 48.0 / 48.2)
        # Session 11: the up GEMV's loads copied 2 steps ahead (PIPE 3: the planes as one 1-D load, the scales as
        # words): engine 16.76 -> 14.25 us; the down GEMV's and two tokens' level or slower with it.
        # Session 12: one token's down GEMV ran 0.55 waves (1,440 programs, ~10 of the 20 warps per SM its 96
        # registers allow); 4-row programs under a cap of 80 registers are one wave of 2,880: engine 10.25 -> 10.05 us
        # Session 17: the pipelined up GEMV asks for its K tail and bias before its loop: engine 14.16 -> 13.85 us
        down = dict(GEMV=True, BN=8, BK=512, num_warps=1, num_stages=1)
        if pairs <= 4:
            return dict(down, BN=16, BK=256, PIPE=3), dict(down, BN=4, maxnreg=80)
        return down, down
    if device.type != "cuda":
        small = dict(BM=16, BN=32, BK=64, num_warps=4, num_stages=1)  # I=96 in the tests: a K tail
        return small, small
    if dtype == torch.float32:  # the oracle check on a GPU: tiles that fit shared memory in fp32
        safe = dict(BM=16 if pairs <= 4 * num_experts else 64, BN=64, BK=64, num_warps=4, num_stages=2)
        return safe, safe
    rows = pairs / num_experts
    # Where moe_wgmma.fits (sm_90, row-major experts) the Gluon kernels, the weights dequantized into the MMA's
    # registers (H200, session 13: T=256 337 -> 309 us, T=1024 784 -> 690), the packed words 3 steps ahead through
    # the 4-slot ring (session 14: T=256 276.7 -> 256.3 us), one barrier a step and no fence (session 15: T=1024
    # 624 -> 590); half-wide MMAs (HALF) for tiles of at most half their rows. Up to 64 rows per expert 64-row
    # weight tiles (4 programs per SM under 128 registers) with the token rows past an expert's not read (MASK),
    # and as many token rows as the experts have (session 15, against the Triton tiles below: T=8 144.4 -> 136.7,
    # T=32 218.6 -> 182.8, T=64 222.4 -> 186.9, T=128 287.9 -> 206.4, T=256 253.0 -> 243.7 us). Elsewhere, and
    # above 256 rows per expert, the Triton tiles.
    rows64 = dict(BW=64, BT=16, STAGES=4, MASK=True, maxnreg=128)  # 64 weight rows a program, 4 programs per SM
    if rows <= 2:  # T=8: BK 64 with 4 warps (up) and a split down measured faster alone, slower in the table
        return (dict(BM=16, BN=64, BK=128, num_warps=2, num_stages=3, WGMMA=rows64),
                dict(BM=16, BN=64, BK=64, num_warps=2, num_stages=3, SWAP=True, WGMMA=rows64))
    if rows <= 16:
        # block_rows' layout: T=64 232.9 us, against 240.6 for row-major rows through TMA (an option until session 4)
        mid = dict(BM=16, BN=64, BK=128, num_warps=2, num_stages=3, SWAP=True)
        gluon = rows64 if rows <= 8 else dict(rows64, BT=32, HALF=True)
        return dict(mid, WGMMA=gluon), dict(mid, WGMMA=gluon)
    # T=256 (H200, session 10): 360.7 us with 128-column K steps and scale words (S32), 347.8 with 64-column steps
    # (registers 254 -> 167 for up, shared memory 83 -> 41 KB), 337.8 with each step's scales loaded a step ahead
    mid = dict(BM=64, BN=128, BK=64, num_warps=4, num_stages=3, AHEAD=True)
    if rows <= 64:
        gluon = dict(rows64, BT=64, HALF=True)
        return dict(mid, WGMMA=gluon), dict(mid, WGMMA=gluon)
    rows128 = dict(BW=128, BT=64, STAGES=4, HALF=True, maxnreg=168)  # 3 programs per SM
    # prefill: a 128 x 256 tile halves the dequantization per FLOP against 128 x 128 (8k tokens: up 3.49 -> 2.86 ms);
    # scale words measured faster at 256 tokens with 128-column steps (session 2: 400 -> 345 us), byte loads at 8192
    # (4224 vs 4326)
    up = dict(BM=128, BN=256, BK=128, num_warps=8, num_stages=3, S32=rows <= 256)
    down = dict(BM=256, BN=128, BK=64, num_warps=8, num_stages=3, AHEAD=True)
    # up to 256 rows per expert the down GEMM's last row tile of each expert wastes less at 64 rows
    # (1024 tokens: 328.8 -> 282.5 us; 2048: 543.8 -> 492.4); the up GEMM keeps its 128 x 256 tile (521 vs 557)
    if rows <= 256:
        return dict(up, WGMMA=rows128), dict(mid, WGMMA=rows128)
    return up, down


def _ptx_capability(x: torch.Tensor) -> tuple[int, int]:
    """The compute capability the MoE's PTX would run on: the GPU's for bf16 activations on CUDA, else (0, 0)
    (the interpreter cannot run PTX; fp16/fp32 take the portable paths)."""
    return capability(x.device) if x.is_cuda and x.dtype == torch.bfloat16 else (0, 0)


def _gemv_dequant(x: torch.Tensor) -> int:
    """The GEMVs' DEQ: fp16 products of the PTX, activations as planes, the weights by the e4m3 conversion where
    the GPU has it (3: sm_89+) or by prmt (4: sm_80+); else 0 (portable: fp32 products)."""
    cap = _ptx_capability(x)
    return 3 if cap >= (8, 9) else 4 if cap >= (8, 0) else 0


def _dequant_mode(x: torch.Tensor, experts: dict) -> int:
    """_mxfp4_tile's DEQ: PTX where the GPU has bf16x2 fma (sm_80+), with one multiply per weight pair when the
    checkpoint's largest scale byte (`max_scale`, recorded at load) allows it; else 0 (portable)."""
    if _ptx_capability(x) < (8, 0):
        return 0
    return 2 if experts.get("max_scale", 255) <= 128 else 1


def block_rows(blocks: torch.Tensor) -> torch.Tensor:
    """Packed MXFP4 blocks [E, N, G, 16] (row-major rows of G * 16 bytes) -> the same bytes as
    [E, N / 16, G' / 2, 16, 32]: per block of 16 rows, 512-byte chunks of 32 bytes (2 groups) per row, G' = G
    padded with zero bytes to even (gpt-oss: G = 90, no padding, so each layer's new tensor reuses the memory its
    row-major tensor frees: 120b fills the H100). A decode tile's K step then reads each 16 rows as one 1 KB span
    instead of 64 bytes from each of 16 rows 1440 bytes apart (H100, raw read of gpt-oss-20b's up weights in that
    pattern: 1616 -> 1974 GB/s; decode MoE T=8 166.4 -> 160.2 us). N is a multiple of 16 in any MXFP4 MoE: each
    matrix's rows are the other's K, a whole number of 32-column groups."""
    E, N, G, _ = blocks.shape
    rows, chunk = BLOCK_ROWS.value, CHUNK_BYTES.value
    row_bytes = blocks.view(E, N // rows, rows, G * 16)
    out = torch.zeros((E, N // rows, -(-G * 16 // chunk), rows, chunk), dtype=blocks.dtype, device=blocks.device)
    for c in range(out.shape[2]):  # chunk by chunk: no second full-size copy in memory (120b's w1: 1 GB a layer)
        piece = row_bytes[..., c * chunk:(c + 1) * chunk]
        out[:, :, c, :, :piece.shape[-1]] = piece
    return out


def row_major(blocks: torch.Tensor) -> torch.Tensor:
    """block_rows' layout back to row-major rows [E, N, G', 16] (the padded groups kept), for comparisons."""
    E, NB, _, R, _ = blocks.shape
    return blocks.transpose(2, 3).reshape(E, NB * R, -1, 16)


def block_rows_pay(device: torch.device) -> bool:
    """Whether block_rows' layout pays on this GPU. H100 (session 4): batch-8 decode 1,385 -> 1,442 tok/s. H200
    (session 8): row-major rows are faster at one token (engine 526.8 -> 537.9 tok/s: up GEMV 21.4 -> 20.3 us) and
    level or faster elsewhere (batch 8 1,584 / 1,578 tok/s, batch 256 18.6k / 18.8k, 8k prefill 145.6 / 145.0 ms)."""
    return device.type == "cuda" and "H100" in torch.cuda.get_device_name(device)


def lay_out_experts(weights: dict[str, torch.Tensor], blocked: bool | None = None) -> None:
    """The MXFP4 expert tensors of `weights` (keys ending in _blocks and _scales) replaced, one at a time, by the
    layout these kernels read: scale rows padded to 32-bit words, packed rows in 16-row blocks (block_rows) if
    `blocked` (by default where block_rows_pay), else row-major as in the checkpoint."""
    for key in weights:
        if key.endswith("_blocks"):
            if blocked is None:
                blocked = block_rows_pay(weights[key].device)
            if blocked:
                weights[key] = block_rows(weights[key])
        elif key.endswith("_scales"):
            weights[key] = pad_scale_rows(weights[key])


def _rows_layout(blocks: torch.Tensor) -> tuple[int, int, bool]:
    """(rows N, stride between the kernel's row units, BLOCKED) of packed blocks, row-major or block_rows'."""
    if blocks.dim() == 5:
        return blocks.shape[1] * blocks.shape[3], blocks.stride(1), True
    return blocks.shape[1], blocks.stride(1), False


def _word_scales(scales: torch.Tensor, bk: int) -> bool:
    """Whether a tile that asks for S32 can have it: scale rows padded to a multiple of 4 bytes
    (moe.pad_scale_rows) are read a 32-bit word (4 groups) at a time, when a K step covers whole words. It pays at
    big tiles (8192 tokens: -2%) and costs at decode tiles (T=1: +18%) on the H100 (bench/NOTES.md)."""
    return scales.stride(2) == 1 and scales.stride(1) % 4 == 0 and bk % 128 == 0


def moe(x: torch.Tensor, weights: torch.Tensor, idx: torch.Tensor, experts: dict, limit: float,
        configs: tuple[dict, dict] | None = None) -> torch.Tensor:
    """Same contract as moe_ref, for MXFP4 experts. `configs` overrides the tile choice (benchmark sweeps)."""
    T, H = x.shape
    out = torch.empty_like(x)
    if T == 0:
        return out
    y = moe_pairs(x, weights, idx, experts, limit, configs)
    block = min(1024, triton.next_power_of_2(H))
    _sum_k_kernel[(T, triton.cdiv(H, block))](y, out, H, y.shape[1], SPLIT=y.shape[0], TOPK=idx.shape[1],
                                              BLOCK=block, **launch_options(x.device))
    return out


def moe_add_rmsnorm(x: torch.Tensor, weights: torch.Tensor, idx: torch.Tensor, experts: dict, limit: float,
                    residual: torch.Tensor, norm_w: torch.Tensor, eps: float, groups: tuple | None = None,
                    planes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """add_rmsnorm(moe(x, ...), residual, norm_w, eps) with the sum over the k slots done by the norm's pass (one
    kernel and one trip of the output through memory fewer)."""
    if x.shape[0] == 0:
        return norm_triton.add_rmsnorm(x, residual, norm_w, eps)
    return norm_triton.add_rmsnorm(moe_pairs(x, weights, idx, experts, limit, groups=groups, planes=planes),
                                   residual, norm_w, eps, top_k=idx.shape[1])


def activation_planes(x: torch.Tensor) -> torch.Tensor:
    """x's rows [T, K] as the decode GEMVs' activation planes (fp16, _plane_index), as the route's norm stores
    them at decode (Routing.planes)."""
    T, K = x.shape
    planes = torch.empty((T, K), dtype=torch.float16, device=x.device)
    _planes_kernel[(T,)](x, planes, K, x.stride(0), KB=triton.next_power_of_2(K), **launch_options(x.device))
    return planes


def moe_pairs(x: torch.Tensor, weights: torch.Tensor, idx: torch.Tensor, experts: dict, limit: float,
              configs: tuple[dict, dict] | None = None, groups: tuple | None = None,
              planes: torch.Tensor | None = None) -> torch.Tensor:
    """Each (token, slot) pair's routing-weighted expert output y [K splits, T * k, H], for sum_pairs. groups:
    the pairs already grouped by expert (Routing.groups), else they are grouped here; planes: x's activation
    planes for the GEMVs (Routing.planes), else made here when the GEMVs read them."""
    T, H = x.shape
    top_k = idx.shape[1]
    w1b, w1s, w2b, w2s = experts["w1_blocks"], experts["w1_scales"], experts["w2_blocks"], experts["w2_scales"]
    E = w1b.shape[0]
    N1, stride_1n, blocked_1 = _rows_layout(w1b)
    _, stride_2n, blocked_2 = _rows_layout(w2b)
    I = N1 // 2
    x = x.contiguous()
    P = T * top_k
    dev = x.device
    deq = _dequant_mode(x, experts)
    b1, b2 = experts["w1_bias"], experts["w2_bias"]
    configs = configs or _configs(P, E, x.dtype, dev)
    if configs[0].get("GEMV"):  # each pair streams its own expert (a shared expert is read twice): no grouping
        up, down = ({"PIPE": 1, **{k: v for k, v in c.items() if k != "GEMV"}} for c in configs)
        gemv_deq = _gemv_dequant(x)
        # a pipelined loop reads the scales as words (the pipeliner leaves byte loads alone) where the rows allow
        s32_up, s32_down = (c["PIPE"] > 1 and _word_scales(ws, c["BK"]) for c, ws in ((up, w1s), (down, w2s)))
        flat = idx.reshape(-1).contiguous()
        a = x if gemv_deq == 0 else planes
        if a is None:  # the activations as _fp4_dot_asm's operand planes; h is stored as planes by the up GEMV
            a = activation_planes(x)
        h = torch.empty((P, I), dtype=torch.float16 if gemv_deq else x.dtype, device=dev)
        _moe_up_gemv_kernel[(triton.cdiv(N1, up["BN"]), P)](
            a, flat, w1b, w1s, b1, h, H, N1, a.stride(0), w1b.stride(0), stride_1n, w1s.stride(0), w1s.stride(1),
            b1.stride(0), limit, SWIGLU_ALPHA, TOPK=top_k, DEQ=gemv_deq, BLOCKED=blocked_1, S32=s32_up,
            BKT=_tail_width(H, up["BK"]), **up, **launch_options(dev))
        y = torch.empty((1, P, H), dtype=x.dtype, device=dev)
        _moe_down_gemv_kernel[(triton.cdiv(H, down["BN"]), P)](
            h, flat, weights.contiguous(), w2b, w2s, b2, y, I, H, w2b.stride(0), stride_2n, w2s.stride(0),
            w2s.stride(1), b2.stride(0), DEQ=gemv_deq, BLOCKED=blocked_2, S32=s32_down,
            BKT=_tail_width(I, down["BK"]), **down, **launch_options(dev))
        return y
    EP = triton.next_power_of_2(E)
    counts, sorted_pairs = groups or _group_pairs(idx, EP)
    if configs[0].get("WGMMA"):
        from moechat.kernels import moe_wgmma  # Gluon, imported where used (it imports this module's PTX)
        if moe_wgmma.fits(x, experts, configs[0]["WGMMA"]):
            return moe_wgmma.moe_pairs(x, weights.contiguous(), idx, experts, limit, counts, sorted_pairs,
                                       *(c["WGMMA"] for c in configs))
    defaults = {"SWAP": False, "S32": False, "AHEAD": False, "EARLY": False}
    up, down = ({**defaults, **{k: v for k, v in c.items() if k != "WGMMA"}} for c in configs)
    s32_up = up.pop("S32") and _word_scales(w1s, up["BK"])
    s32_down = down.pop("S32") and _word_scales(w2s, down["BK"])
    prec = mma_precision(x.dtype)
    h = torch.empty((P, I), dtype=x.dtype, device=dev)

    def tiles(bm: int) -> int:
        return min(P, triton.cdiv(P, bm) + E)

    k_chunk, split = _split_k(H, up.pop("SPLIT", 1), up["BK"])
    # K splits: fp32 partial sums of the gate/up columns, summed and activated by _swiglu_splits_kernel
    part = h if split == 1 else torch.empty((split, P, N1), dtype=torch.float32, device=dev)
    _moe_up_kernel[(triton.cdiv(N1, up["BN"]), tiles(up["BM"]), split)](
        x, sorted_pairs, counts, w1b, w1s, b1, part, H, N1, E, P, k_chunk,
        x.stride(0), w1b.stride(0), stride_1n, w1s.stride(0), w1s.stride(1), b1.stride(0), limit, SWIGLU_ALPHA,
        TOPK=top_k, EP=EP, PREC=prec, DEQ=deq, S32=s32_up, SPLIT=split, BLOCKED=blocked_1, **up, **launch_options(dev))
    if split > 1:
        block = min(1024, triton.next_power_of_2(I))
        _swiglu_splits_kernel[(P, triton.cdiv(I, block))](part, h, I, P, limit, SWIGLU_ALPHA, SPLIT=split,
                                                           BLOCK=block, **launch_options(dev))
    k_chunk, split = _split_k(I, down.pop("SPLIT", 1), down["BK"])
    # one K split: each pair's weighted output rounded once to the activation dtype, as the reference rounds
    # its expert outputs (and half the bytes of fp32 at prefill); K splits keep fp32 partial sums
    y = torch.empty((split, P, H), dtype=x.dtype if split == 1 else torch.float32, device=dev)
    _moe_down_kernel[(triton.cdiv(H, down["BN"]), tiles(down["BM"]), split)](
        h, sorted_pairs, counts, weights.contiguous(), w2b, w2s, b2, y, I, H, E, P, k_chunk,
        w2b.stride(0), stride_2n, w2s.stride(0), w2s.stride(1), b2.stride(0), EP=EP, PREC=prec, DEQ=deq,
        S32=s32_down, BLOCKED=blocked_2, **down, **launch_options(dev))
    return y
