"""Linear layers for decode-sized batches in Triton: out = x @ W^T + b for x [M, K] (M <= 8), W [N, K] in bf16.

cuBLAS runs gpt-oss-20b's o-projection at one row as a split-K GEMM plus a reduce kernel (13.6 us for 23.6 MB,
1.7 TB/s on an H100). One row: each program streams a few weight rows with CUDA-core FMAs (one row of x needs no
tensor cores) and many programs keep the memory system busy. A few rows: each program streams a narrow band of
weight rows through the tensor cores as the MMA's wide operand, the rows of x padded to its narrow side. fp32
accumulation, bias added before the rounding, as cuBLAS does. The reference is torch.nn.functional.linear.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from moechat.kernels.attention_triton import mma_precision
from moechat.kernels.pdl import launch_options, wait_for_previous
from moechat.kernels.split_k import arrival_counts, split_k

MAX_ROWS = 8  # more rows go to cuBLAS
# a few tokens' qkv projection with RoPE: the o-projection's band (alone, qkv ran 14.1 us in it against cuBLAS's
# 13.5; with the rope kernel's 2.6 us saved it is ahead)
QKV_ROWS = dict(BM=16, BN=16, BK=256, num_warps=2, num_stages=4, SPLIT=2)


@triton.jit
def _gemv_rows(x_ptr, w_ptr, n, nmask, K, stride_w, BN: tl.constexpr, BK: tl.constexpr):
    """x [K] . W[n] for the BN weight rows n -> fp32 [BN]."""
    rows = w_ptr + n[:, None].to(tl.int64) * stride_w
    acc = tl.zeros([BN, BK], tl.float32)
    k_full = K // BK * BK
    for k0 in range(0, k_full, BK):  # whole tiles: no mask along K, so the loads stay 16-byte vectors
        kk = k0 + tl.arange(0, BK)
        w = tl.load(rows + kk[None, :], mask=nmask[:, None], other=0.0)
        acc += w.to(tl.float32) * tl.load(x_ptr + kk).to(tl.float32)[None, :]
    if k_full < K:
        kk = k_full + tl.arange(0, BK)
        kmask = kk < K
        w = tl.load(rows + kk[None, :], mask=nmask[:, None] & kmask[None, :], other=0.0)
        acc += w.to(tl.float32) * tl.load(x_ptr + kk, mask=kmask, other=0.0).to(tl.float32)[None, :]
    return tl.sum(acc, axis=1)


@triton.jit
def _gemv_kernel(x_ptr, w_ptr, b_ptr, out_ptr, N, K, stride_w, HAS_BIAS: tl.constexpr, BN: tl.constexpr,
                 BK: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    out = _gemv_rows(x_ptr, w_ptr, n, nmask, K, stride_w, BN, BK)
    if HAS_BIAS:
        out += tl.load(b_ptr + n, mask=nmask, other=0.0).to(tl.float32)
    tl.store(out_ptr + n, out.to(out_ptr.dtype.element_ty), mask=nmask)


@triton.jit
def _rows_step(acc, x_ptr, rows, k0, K, stride_x, m, mmask, nmask, BK: tl.constexpr, PREC: tl.constexpr,
               MASK_K: tl.constexpr):
    kk = k0 + tl.arange(0, BK)
    wmask = nmask[:, None]
    xmask = mmask[:, None]
    if MASK_K:
        wmask &= (kk < K)[None, :]
        xmask &= (kk < K)[None, :]
    w = tl.load(rows + kk[None, :], mask=wmask, other=0.0)
    x = tl.load(x_ptr + m[:, None] * stride_x + kk[None, :], mask=xmask, other=0.0)
    return tl.dot(w, tl.trans(x), acc, input_precision=PREC)


@triton.jit
def _rows_matmul(x_ptr, w_ptr, n, nmask, m, mmask, K, K_CHUNK, stride_x, stride_w, arrivals_ptr, part_ptr,
                 BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr, SPLIT: tl.constexpr):
    """(last, acc [BN, BM] = W[n] @ x[m]^T in fp32): the weight band is the MMA's first operand, x's few rows the
    narrow second. SPLIT > 1: program_id(1) takes K_CHUNK columns (more programs for the few bands, 180 for the
    o-projection on 132 SMs) and stores its partial; the last of the band's programs to arrive (split_k.py) gets
    last = True and the partials summed in split order, the others last = False."""
    sp = tl.program_id(1)
    k_lo = tl.multiple_of(sp * K_CHUNK, BK)  # K_CHUNK is a multiple of BK: keeps the 16-byte vector loads
    k_hi = tl.minimum(k_lo + K_CHUNK, K)
    rows = w_ptr + n[:, None].to(tl.int64) * stride_w
    acc = tl.zeros([BN, BM], tl.float32)
    k_full = k_lo + (k_hi - k_lo) // BK * BK
    for k0 in range(k_lo, k_full, BK):
        acc = _rows_step(acc, x_ptr, rows, k0, k_hi, stride_x, m, mmask, nmask, BK, PREC, False)
    if k_full < k_hi:
        acc = _rows_step(acc, x_ptr, rows, k_full, k_hi, stride_x, m, mmask, nmask, BK, PREC, True)
    last = True
    if SPLIT > 1:
        band = tl.program_id(0)
        tile = tl.arange(0, BN)[:, None] * BM + tl.arange(0, BM)[None, :]
        parts = part_ptr + band.to(tl.int64) * (SPLIT * BN * BM)
        tl.store(parts + sp * (BN * BM) + tile, acc)
        tl.debug_barrier()  # every thread's part stored before the program's arrival is counted (release below)
        last = tl.atomic_add(arrivals_ptr + band, 1, sem="acq_rel") == SPLIT - 1
        if last:
            acc = tl.zeros([BN, BM], tl.float32)
            for i in range(0, SPLIT):  # .cg: the other programs' parts from L2, never a stale L1 line
                acc += tl.load(parts + i * (BN * BM) + tile, cache_modifier=".cg")
            tl.atomic_xchg(arrivals_ptr + band, 0)
    return last, acc


@triton.jit(do_not_specialize=["M"])
def _rows_kernel(x_ptr, w_ptr, b_ptr, out_ptr, arrivals_ptr, part_ptr, M, N, K, K_CHUNK, stride_x, stride_w,
                 HAS_BIAS: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
                 SPLIT: tl.constexpr, PDL: tl.constexpr = False):
    wait_for_previous(PDL)
    n = tl.program_id(0) * BN + tl.arange(0, BN)
    nmask = n < N
    m = tl.arange(0, BM)
    mmask = m < M
    last, acc = _rows_matmul(x_ptr, w_ptr, n, nmask, m, mmask, K, K_CHUNK, stride_x, stride_w, arrivals_ptr,
                             part_ptr, BM, BN, BK, PREC, SPLIT)
    if last:
        if HAS_BIAS:
            acc += tl.load(b_ptr + n, mask=nmask, other=0.0).to(tl.float32)[:, None]
        tl.store(out_ptr + m[None, :] * N + n[:, None], acc.to(out_ptr.dtype.element_ty),
                 mask=nmask[:, None] & mmask[None, :])


@triton.jit
def _pairs(PAIRS: tl.constexpr, HALF: tl.constexpr):
    """(first rows n1 [PAIRS], all rows n [2 * PAIRS]: the n1 then n1 + HALF) of this program's rotation pairs:
    rows i and i + HALF of a head (q, k and v heads alike)."""
    j = tl.program_id(0) * PAIRS + tl.arange(0, PAIRS)
    n1 = j // HALF * (2 * HALF) + j % HALF
    return n1, (tl.arange(0, 2)[:, None] * HALF + n1[None, :]).reshape([2 * PAIRS])


@triton.jit
def _rope_store(out, n1, m, mmask, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr, sin_ptr, QD, KD,
                PAIRS: tl.constexpr, BM: tl.constexpr, HALF: tl.constexpr):
    """The qkv projection's rows _pairs gave (out [2 * PAIRS, BM] fp32, bias added) for tokens m: rounded as the
    projection's output is, q and k rows rotated by each token's position, q rows stored to q [tokens, QD], k and
    v rows to the token's pool slot."""
    ty = q_ptr.dtype.element_ty
    x1, x2 = out.to(ty).to(tl.float32).reshape([2, PAIRS, BM]).permute(1, 2, 0).split()
    pos = tl.load(pos_ptr + m, mask=mmask, other=0).to(tl.int64)[None, :]
    i = (n1 % HALF)[:, None]
    c = tl.load(cos_ptr + pos * HALF + i)
    s = tl.load(sin_ptr + pos * HALF + i)
    rot = (n1 < QD + KD)[:, None]  # q and k rows; v rows pass through
    y1 = tl.where(rot, x1 * c - x2 * s, x1).to(ty)
    y2 = tl.where(rot, x2 * c + x1 * s, x2).to(ty)
    tok = mmask[None, :]
    is_q = (n1 < QD)[:, None] & tok
    q_row = q_ptr + m[None, :].to(tl.int64) * QD + n1[:, None]
    tl.store(q_row, y1, mask=is_q)
    tl.store(q_row + HALF, y2, mask=is_q)
    row = tl.load(slot_ptr + m, mask=mmask, other=0).to(tl.int64)[None, :] * KD + (n1 - QD)[:, None]
    is_k = rot & ~is_q & tok
    tl.store(k_cache_ptr + row, y1, mask=is_k)
    tl.store(k_cache_ptr + row + HALF, y2, mask=is_k)
    is_v = ~rot & tok
    tl.store(v_cache_ptr + row - KD, y1, mask=is_v)
    tl.store(v_cache_ptr + row - KD + HALF, y2, mask=is_v)


@triton.jit
def _qkv_rope_gemv_kernel(x_ptr, w_ptr, b_ptr, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr,
                          sin_ptr, K, stride_w, QD, KD, HALF: tl.constexpr, PAIRS: tl.constexpr, BK: tl.constexpr,
                          PDL: tl.constexpr = False):
    """One token: each program computes PAIRS rotation pairs with the GEMV, then _rope_store."""
    wait_for_previous(PDL)
    n1, n = _pairs(PAIRS, HALF)
    out = _gemv_rows(x_ptr, w_ptr, n, n >= 0, K, stride_w, 2 * PAIRS, BK) + tl.load(b_ptr + n).to(tl.float32)
    m = tl.arange(0, 1)
    _rope_store(out[:, None], n1, m, m < 1, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr, sin_ptr,
                QD, KD, PAIRS, 1, HALF)


@triton.jit(do_not_specialize=["M"])
def _qkv_rope_rows_kernel(x_ptr, w_ptr, b_ptr, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr,
                          sin_ptr, arrivals_ptr, part_ptr, M, K, K_CHUNK, stride_x, stride_w, QD, KD,
                          HALF: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                          PREC: tl.constexpr, SPLIT: tl.constexpr, PDL: tl.constexpr = False):
    """A few tokens: each program's weight band is BN / 2 rotation pairs through the MMA, then _rope_store."""
    wait_for_previous(PDL)
    n1, n = _pairs(BN // 2, HALF)
    m = tl.arange(0, BM)
    mmask = m < M
    last, acc = _rows_matmul(x_ptr, w_ptr, n, n >= 0, m, mmask, K, K_CHUNK, stride_x, stride_w, arrivals_ptr,
                             part_ptr, BM, BN, BK, PREC, SPLIT)
    if last:
        acc += tl.load(b_ptr + n).to(tl.float32)[:, None]
        _rope_store(acc, n1, m, mmask, q_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, pos_ptr, cos_ptr, sin_ptr, QD, KD,
                    BN // 2, BM, HALF)


def _split_buffers(device: torch.device, bands: int, cfg: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """(arrival counts, fp32 partials [bands, SPLIT, BN, BM]) for _rows_matmul's K splits."""
    split = cfg["SPLIT"]
    part = torch.empty((bands, split, cfg["BN"], cfg["BM"]) if split > 1 else (1,), dtype=torch.float32,
                       device=device)
    return arrival_counts(device, bands), part


def _config(M: int, K: int) -> dict | None:
    """Tiles from `python -m moechat.kernels.bench --sweep decode` on an H100 (bench/NOTES.md): one row, a wider
    K step for the longer rows of the o-projection (10.5 us against 11.0) and 2-row bands for qkv (12.5 against
    12.8). A few rows: a 16-row weight band through the tensor cores beats cuBLAS on the o-projection's long rows
    (8 rows: 11.5 against 13.6 us) but not on qkv's (14.1 against 13.5): None, cuBLAS."""
    if M == 1:
        return dict(BN=4, BK=1024, num_warps=2) if K >= 4096 else dict(BN=2, BK=512, num_warps=2)
    return dict(BM=16, BN=16, BK=256, num_warps=2, num_stages=4, SPLIT=2) if K >= 4096 else None


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           config: dict | None = None) -> torch.Tensor:
    """Same contract as torch.nn.functional.linear; up to MAX_ROWS rows of 16-bit activations take the Triton
    kernels where _config has a tile for them (the GEMV, or the MMA band when the tile names BM), anything else
    F.linear. `config` overrides the tile (benchmark sweeps)."""
    M, K = x.shape
    cfg = config or (_config(M, K) if 1 <= M <= MAX_ROWS else None)
    if cfg is None or x.dtype not in (torch.bfloat16, torch.float16) or weight.stride(1) != 1:
        return torch.nn.functional.linear(x, weight, bias)
    N = weight.shape[0]
    x = x.contiguous()
    out = torch.empty((M, N), dtype=x.dtype, device=x.device)
    b = bias if bias is not None else weight
    if "BM" in cfg:
        cfg = dict(cfg)
        k_chunk, cfg["SPLIT"] = split_k(K, cfg.get("SPLIT", 1), cfg["BK"])
        bands = triton.cdiv(N, cfg["BN"])
        _rows_kernel[(bands, cfg["SPLIT"])](x, weight, b, out, *_split_buffers(x.device, bands, cfg), M, N, K,
                                            k_chunk, x.stride(0), weight.stride(0), HAS_BIAS=bias is not None,
                                            PREC=mma_precision(x.dtype), **cfg, **launch_options(x.device))
    else:
        _gemv_kernel[(triton.cdiv(N, cfg["BN"]),)](x, weight, b, out, N, K, weight.stride(0),
                                                    HAS_BIAS=bias is not None, **cfg, **launch_options(x.device))
    return out


def qkv_rope_write_kv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, q_heads: int, cos: torch.Tensor,
                      sin: torch.Tensor, positions: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
                      slot_mapping: torch.Tensor) -> torch.Tensor | None:
    """1 to MAX_ROWS tokens (x [T, K], 16-bit): q after RoPE [T, q_heads, D], with k (rotated) and v stored into
    the tokens' pool slots, in one kernel: the same as linear(x, weight, bias) split into q, k and v, then
    rope_triton.rope_write_kv (whose kernel it saves: 2.6 us a layer on an H100). None where it does not apply
    (more rows, other dtypes): the caller takes the two-kernel path."""
    T, K = x.shape
    _, _, kv_heads, D = k_cache.shape
    if not 1 <= T <= MAX_ROWS or x.dtype not in (torch.bfloat16, torch.float16) or weight.stride(1) != 1:
        return None
    assert k_cache.is_contiguous() and v_cache.is_contiguous() and weight.shape[0] == (q_heads + 2 * kv_heads) * D
    q = torch.empty((T, q_heads, D), dtype=x.dtype, device=x.device)
    x = x.contiguous()
    common = (k_cache, v_cache, slot_mapping, positions, cos, sin)
    pairs = weight.shape[0] // 2
    if T == 1:
        cfg = _config(1, K)
        per = cfg["BN"] // 2
        assert pairs % per == 0
        _qkv_rope_gemv_kernel[(pairs // per,)](
            x, weight, bias, q, *common, K, weight.stride(0), q_heads * D, kv_heads * D, HALF=D // 2, PAIRS=per,
            BK=cfg["BK"], num_warps=cfg["num_warps"], **launch_options(x.device))
    else:
        cfg = dict(QKV_ROWS)
        bands = pairs // (cfg["BN"] // 2)
        assert pairs % (cfg["BN"] // 2) == 0
        k_chunk, cfg["SPLIT"] = split_k(K, cfg["SPLIT"], cfg["BK"])
        _qkv_rope_rows_kernel[(bands, cfg["SPLIT"])](
            x, weight, bias, q, *common, *_split_buffers(x.device, bands, cfg), T, K, k_chunk, x.stride(0),
            weight.stride(0), q_heads * D, kv_heads * D, HALF=D // 2, PREC=mma_precision(x.dtype), **cfg,
            **launch_options(x.device))
    return q
