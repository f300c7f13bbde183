"""Paged attention with sinks, sliding window and GQA in Triton.

Both kernels put a kv head's whole query group in the rows of one tile (rows = tokens x group heads), so each
K/V tile loaded from the pool serves every query head that shares it. Softmax runs in fp32, base 2.
- prefill: flash style over (query block, sequence, kv head); causal, prefix aware (new queries sit at the
  end of the context and see cached keys), the sink seeds the running max and sum.
- decode (one query per sequence): the key range is split over programs, each writes a partial (max, sum,
  unnormalized output), and a combine kernel merges the partials with the sink.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from moechat.kernels.attention import AttentionBatch
from moechat.kernels.pdl import launch_options, wait_for_previous

LOG2E: tl.constexpr = tl.constexpr(1.4426950408889634)
NEG: tl.constexpr = tl.constexpr(-1.0e30)  # finite "minus infinity": an empty split or row must never produce inf - inf


def mma_precision(dtype: torch.dtype) -> str:
    # fp32 callers want the oracle's numbers, not tf32's
    return "ieee" if dtype == torch.float32 else "tf32"


@triton.jit
def _attend(acc, m, l, q, k_cache, v_cache, bt_row_ptr, kvh_off, start, end, qpos, window, qk_scale,
            stride_kb, stride_ks, PAGE: tl.constexpr, BLOCK_N: tl.constexpr, D: tl.constexpr,
            MASKED: tl.constexpr, CAUSAL: tl.constexpr, PREC: tl.constexpr):
    """Online softmax of the tile's rows over keys [start, end) of one sequence and kv head. MASKED=False:
    the caller promises whole tiles that every row sees (no per-element masking at all)."""
    d = tl.arange(0, D)
    for k0 in range(start, end, BLOCK_N):
        kpos = k0 + tl.arange(0, BLOCK_N)
        kmask = kpos < end
        page = tl.load(bt_row_ptr + kpos // PAGE, mask=kmask, other=0).to(tl.int64)
        off = page * stride_kb + (kpos % PAGE) * stride_ks + kvh_off
        k = tl.load(k_cache + off[:, None] + d[None, :], mask=kmask[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * qk_scale
        if MASKED:
            visible = kmask[None, :]
            if CAUSAL:
                visible &= kpos[None, :] <= qpos[:, None]
                visible &= (kpos[None, :] > qpos[:, None] - window) | (window == 0)
            s = tl.where(visible, s, NEG)
        m_new = tl.maximum(m, tl.max(s, axis=1))
        alpha = tl.exp2(m - m_new)
        p = tl.exp2(s - m_new[:, None])
        l = l * alpha + tl.sum(p, axis=1)
        v = tl.load(v_cache + off[:, None] + d[None, :], mask=kmask[:, None], other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PREC)
        m = m_new
    return acc, m, l


@triton.jit(do_not_specialize=["stride_bt", "num_qblocks"])
def _prefill_kernel(q_ptr, k_cache, v_cache, sinks_ptr, out_ptr, query_start_ptr, context_lens_ptr, bt_ptr,
                    stride_qt, stride_qh, stride_ot, stride_oh, stride_bt, stride_kb, stride_ks, stride_kh,
                    G, window, qk_scale, num_qblocks,
                    PAGE: tl.constexpr, BLOCK_Q: tl.constexpr, GP: tl.constexpr, BLOCK_N: tl.constexpr,
                    D: tl.constexpr, PREC: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    qb = num_qblocks - 1 - tl.program_id(0)  # the longest key ranges start first
    s_id = tl.program_id(1)
    kvh = tl.program_id(2)
    q0 = tl.load(query_start_ptr + s_id)
    n = tl.load(query_start_ptr + s_id + 1) - q0
    if qb * BLOCK_Q >= n:
        return
    ctx = tl.load(context_lens_ptr + s_id)
    rows = tl.arange(0, BLOCK_Q * GP)
    tok = qb * BLOCK_Q + rows // GP
    hg = rows % GP
    row_ok = (tok < n) & (hg < G)
    head = kvh * G + hg
    qpos = ctx - n + tok
    d = tl.arange(0, D)
    q = tl.load(q_ptr + (q0 + tok)[:, None].to(tl.int64) * stride_qt + head[:, None] * stride_qh + d[None, :],
                mask=row_ok[:, None], other=0.0)
    m = tl.load(sinks_ptr + head, mask=row_ok, other=0.0).to(tl.float32) * LOG2E
    l = tl.full([BLOCK_Q * GP], 1.0, tl.float32)
    acc = tl.zeros([BLOCK_Q * GP, D], tl.float32)
    first = ctx - n + qb * BLOCK_Q  # position of the tile's first query
    end = tl.minimum(first + BLOCK_Q, ctx)
    start = tl.where(window > 0, tl.maximum(first - window + 1, 0) // BLOCK_N * BLOCK_N, 0)
    # [lo_full, hi_full): whole key tiles every row of the tile sees; masks are only paid at the edges
    hi_full = (first + 1) // BLOCK_N * BLOCK_N
    lo_full = tl.where(window > 0, tl.cdiv(tl.maximum(end - window, 0), BLOCK_N) * BLOCK_N, 0)
    lo_full = tl.minimum(tl.maximum(lo_full, start), end)
    hi_full = tl.maximum(hi_full, lo_full)
    bt_row = bt_ptr + s_id * stride_bt
    acc, m, l = _attend(acc, m, l, q, k_cache, v_cache, bt_row, kvh * stride_kh, start, lo_full,
                        qpos, window, qk_scale, stride_kb, stride_ks, PAGE, BLOCK_N, D, True, True, PREC)
    acc, m, l = _attend(acc, m, l, q, k_cache, v_cache, bt_row, kvh * stride_kh, lo_full, hi_full,
                        qpos, window, qk_scale, stride_kb, stride_ks, PAGE, BLOCK_N, D, False, False, PREC)
    acc, m, l = _attend(acc, m, l, q, k_cache, v_cache, bt_row, kvh * stride_kh, hi_full, end,
                        qpos, window, qk_scale, stride_kb, stride_ks, PAGE, BLOCK_N, D, True, True, PREC)
    o = acc / l[:, None]
    tl.store(out_ptr + (q0 + tok)[:, None].to(tl.int64) * stride_ot + head[:, None] * stride_oh + d[None, :],
             o.to(out_ptr.dtype.element_ty), mask=row_ok[:, None])


@triton.jit(do_not_specialize=["stride_bt"])
def _decode_kernel(q_ptr, k_cache, v_cache, part_ptr, ml_ptr, query_start_ptr, context_lens_ptr, bt_ptr,
                   stride_qt, stride_qh, stride_bt, stride_kb, stride_ks, stride_kh, G, window, qk_scale,
                   SPLITS: tl.constexpr, PAGE: tl.constexpr, GP: tl.constexpr, BLOCK_N: tl.constexpr,
                   D: tl.constexpr, PREC: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    s_id = tl.program_id(0)
    kvh = tl.program_id(1)
    split = tl.program_id(2)
    q0 = tl.load(query_start_ptr + s_id)
    if tl.load(query_start_ptr + s_id + 1) == q0:
        return
    ctx = tl.load(context_lens_ptr + s_id)
    lo = tl.where(window > 0, tl.maximum(ctx - window, 0), 0)
    chunk = tl.cdiv(tl.cdiv(ctx - lo, SPLITS), BLOCK_N) * BLOCK_N
    start = lo + split * chunk
    end = tl.minimum(start + chunk, ctx)
    hg = tl.arange(0, GP)
    row_ok = hg < G
    head = kvh * G + hg
    d = tl.arange(0, D)
    q = tl.load(q_ptr + q0.to(tl.int64) * stride_qt + head[:, None] * stride_qh + d[None, :],
                mask=row_ok[:, None], other=0.0)
    m = tl.full([GP], NEG, tl.float32)
    l = tl.zeros([GP], tl.float32)
    acc = tl.zeros([GP, D], tl.float32)
    # every key of [lo, ctx) is visible to the single query, so only the range end needs a mask
    acc, m, l = _attend(acc, m, l, q, k_cache, v_cache, bt_ptr + s_id * stride_bt, kvh * stride_kh, start, end,
                        hg, window, qk_scale, stride_kb, stride_ks, PAGE, BLOCK_N, D, True, False, PREC)
    # partials: [S, heads, SPLITS, D] and [S, heads, SPLITS, 2]
    heads = G * tl.num_programs(1)
    idx = (s_id * heads + head) * SPLITS + split
    tl.store(part_ptr + idx[:, None].to(tl.int64) * D + d[None, :], acc, mask=row_ok[:, None])
    tl.store(ml_ptr + idx * 2, m, mask=row_ok)
    tl.store(ml_ptr + idx * 2 + 1, l, mask=row_ok)


@triton.jit
def _combine_kernel(part_ptr, ml_ptr, sinks_ptr, out_ptr, query_start_ptr, stride_ot, stride_oh,
                    SPLITS: tl.constexpr, D: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    s_id = tl.program_id(0)
    head = tl.program_id(1)
    q0 = tl.load(query_start_ptr + s_id)
    if tl.load(query_start_ptr + s_id + 1) == q0:
        return
    base = (s_id * tl.num_programs(1) + head) * SPLITS
    sp = tl.arange(0, SPLITS)
    m = tl.load(ml_ptr + (base + sp) * 2)
    l = tl.load(ml_ptr + (base + sp) * 2 + 1)
    sink = tl.load(sinks_ptr + head).to(tl.float32) * LOG2E
    m_all = tl.maximum(tl.max(m, axis=0), sink)
    w = tl.exp2(m - m_all)
    denom = tl.sum(l * w, axis=0) + tl.exp2(sink - m_all)
    d = tl.arange(0, D)
    acc = tl.load(part_ptr + (base + sp)[:, None].to(tl.int64) * D + d[None, :])
    o = tl.sum(acc * w[:, None], axis=0) / denom
    tl.store(out_ptr + q0.to(tl.int64) * stride_ot + head * stride_oh + d, o.to(out_ptr.dtype.element_ty))


_NUM_SMS: dict[int, int] = {}


def _num_sms(device: torch.device) -> int:
    if device.type != "cuda":
        return 4
    i = device.index if device.index is not None else torch.cuda.current_device()
    if i not in _NUM_SMS:
        _NUM_SMS[i] = torch.cuda.get_device_properties(i).multi_processor_count
    return _NUM_SMS[i]


def decode_splits(num_seqs: int, kv_heads: int, window: int, block_n: int, device: torch.device) -> int:
    """Enough programs to fill the GPU about four times over; static per batch size (safe to capture in a
    CUDA graph: each sequence's chunk is computed on the device from its own length)."""
    splits = triton.next_power_of_2(max(1, -(-4 * _num_sms(device) // (num_seqs * kv_heads))))
    if window:
        splits = min(splits, triton.next_power_of_2(-(-window // block_n)))
    return min(splits, 64)


def paged_attention(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, sinks: torch.Tensor,
                    batch: AttentionBatch, window: int, scale: float, config: dict | None = None) -> torch.Tensor:
    """Same contract as paged_attention_ref. Decode-only batches (one query per sequence) take the split
    kernel; anything with a longer query takes the prefill kernel. `config` overrides the tiles (sweeps)."""
    T, heads, D = q.shape
    _, page, kv_heads, _ = k_cache.shape
    assert k_cache.stride() == v_cache.stride() and k_cache.stride(-1) == 1 and q.stride(-1) == 1
    G = heads // kv_heads
    GP = triton.next_power_of_2(G)
    out = torch.empty((T, heads, D), dtype=q.dtype, device=q.device)
    S = batch.num_seqs
    if T == 0 or S == 0:
        return out
    prec = mma_precision(q.dtype)
    qk_scale = scale * LOG2E.value
    common = dict(PAGE=page, D=D, PREC=prec)
    if batch.max_query_len == 1:
        cfg = config or dict(BLOCK_N=64, num_warps=4, num_stages=3)
        splits = decode_splits(S, kv_heads, window, cfg["BLOCK_N"], q.device)
        part = torch.empty((S, heads, splits, D), dtype=torch.float32, device=q.device)
        ml = torch.empty((S, heads, splits, 2), dtype=torch.float32, device=q.device)
        _decode_kernel[(S, kv_heads, splits)](
            q, k_cache, v_cache, part, ml, batch.query_start, batch.context_lens, batch.block_tables,
            q.stride(0), q.stride(1), batch.block_tables.stride(0), k_cache.stride(0), k_cache.stride(1),
            k_cache.stride(2), G, window, qk_scale, SPLITS=splits, GP=max(GP, 16), **cfg, **common,
            **launch_options(q.device))
        _combine_kernel[(S, heads)](part, ml, sinks, out, batch.query_start, out.stride(0), out.stride(1),
                                    SPLITS=splits, D=D, num_warps=1, **launch_options(q.device))
        return out
    if config is None:  # ROWS: query rows (tokens x group heads) per program
        config = (dict(ROWS=128 if q.element_size() == 2 else 64, BLOCK_N=64, num_warps=8, num_stages=2) if q.is_cuda
                  else dict(ROWS=32, BLOCK_N=16, num_warps=4, num_stages=1))
    cfg = dict(config)
    block_q = max(1, cfg.pop("ROWS") // GP)
    nqb = triton.cdiv(batch.max_query_len, block_q)
    _prefill_kernel[(nqb, S, kv_heads)](
        q, k_cache, v_cache, sinks, out, batch.query_start, batch.context_lens, batch.block_tables,
        q.stride(0), q.stride(1), out.stride(0), out.stride(1), batch.block_tables.stride(0),
        k_cache.stride(0), k_cache.stride(1), k_cache.stride(2), G, window, qk_scale, nqb,
        BLOCK_Q=block_q, GP=GP, **cfg, **common, **launch_options(q.device))
    return out
