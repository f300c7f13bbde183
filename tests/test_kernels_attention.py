"""Triton paged attention (prefill and split decode) against paged_attention_ref.

Without CUDA the kernels run in Triton's interpreter (small sizes, fp32/fp16); `gpu` tests run bf16 at
gpt-oss-20b sizes (64 query heads, 8 kv heads, head_dim 64, window 128)."""

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"  # read when the kernels below are decorated

from moechat.kernels.attention import AttentionBatch, paged_attention_ref  # noqa: E402
from moechat.kernels.attention_triton import paged_attention  # noqa: E402

DEV = "cuda" if torch.cuda.is_available() else "cpu"


def make_case(seqs: list[tuple[int, int]], heads: int, kv_heads: int, d: int, page: int, dtype, seed: int):
    """seqs: (new tokens, context length) per sequence. Pages are shuffled over a pool with spare blocks."""
    g = torch.Generator().manual_seed(seed)
    nblocks = [-(-ctx // page) for _, ctx in seqs]
    pool = sum(nblocks) + 3
    perm = torch.randperm(pool, generator=g)
    tables = torch.zeros(len(seqs), max(nblocks), dtype=torch.int32)
    used = 0
    for s, nb in enumerate(nblocks):
        tables[s, :nb] = perm[used:used + nb]
        used += nb
    starts = [0]
    for n, _ in seqs:
        starts.append(starts[-1] + n)
    k_cache = torch.randn(pool, page, kv_heads, d, generator=g).to(DEV, dtype)
    v_cache = torch.randn(pool, page, kv_heads, d, generator=g).to(DEV, dtype)
    q = torch.randn(starts[-1], heads, d, generator=g).to(DEV, dtype)
    sinks = torch.randn(heads, generator=g).to(DEV)
    batch = AttentionBatch(
        query_start=torch.tensor(starts, dtype=torch.int32, device=DEV),
        context_lens=torch.tensor([c for _, c in seqs], dtype=torch.int32, device=DEV),
        block_tables=tables.to(DEV), slot_mapping=torch.zeros(starts[-1], dtype=torch.int64, device=DEV),
        query_start_host=starts, context_lens_host=[c for _, c in seqs], max_query_len=max(n for n, _ in seqs))
    return q, k_cache, v_cache, sinks, batch


def check(seqs, heads, kv_heads, d, page, window, dtype, seed=0, tol=None):
    q, kc, vc, sinks, batch = make_case(seqs, heads, kv_heads, d, page, dtype, seed)
    out = paged_attention(q, kc, vc, sinks, batch, window, d ** -0.5)
    ref = paged_attention_ref(q, kc, vc, sinks, batch, window, d ** -0.5)
    tol = tol or (1e-4 if dtype == torch.float32 else 4e-3)
    err = (out.float() - ref.float()).abs().max().item()
    assert err <= tol, err


PREFILL = [
    [(1, 1)],                     # one token, empty cache
    [(13, 13)],                   # odd length, crosses pages
    [(5, 21)],                    # cached prefix: new queries see cached and new keys
    [(1, 30), (9, 9), (3, 17)],   # mixed batch: a decode row among prefills
    [(0, 8), (6, 6)],             # a sequence with nothing to compute this step
]


@pytest.mark.parametrize("seqs", PREFILL)
@pytest.mark.parametrize("window", [0, 8])
def test_prefill(seqs, window):
    check(seqs, 4, 2, 16, 4, window, torch.float32)


def test_prefill_fp16_odd_group():
    check([(11, 27), (4, 4)], 6, 2, 32, 8, 5, torch.float16)  # 3 query heads per kv head


DECODE = [
    [(1, 1)],                              # one token
    [(1, 7), (1, 33), (1, 100), (1, 16)],  # odd lengths, page and window boundaries, several splits
]


@pytest.mark.parametrize("seqs", DECODE)
@pytest.mark.parametrize("window", [0, 8])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_decode(seqs, window, dtype):
    check(seqs, 4, 2, 16, 4, window, dtype)


@pytest.mark.gpu
@pytest.mark.parametrize("window", [0, 128])
@pytest.mark.parametrize("seqs", [
    [(1000, 1000)],                              # fresh prefill
    [(333, 1200), (1, 1), (77, 77)],             # cached prefix + a decode row + a short prompt
    [(1, 1), (1, 129), (1, 3000), (1, 8191)] * 2,  # decode, crossing the window, long contexts
])
def test_gpu_real_sizes(seqs, window):
    check(seqs, 64, 8, 64, 16, window, torch.bfloat16, tol=2e-2)
