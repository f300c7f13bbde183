"""The decode-batch linear kernels (the attention projections: one-row GEMV, few-row MMA band) against F.linear:
CPU under the Triton interpreter at small sizes, the GPU at gpt-oss-20b's sizes in bf16."""

import os

import pytest
import torch

DEV = "cuda" if torch.cuda.is_available() else "cpu"
if DEV == "cpu":
    os.environ.setdefault("TRITON_INTERPRET", "1")

from moechat.kernels.linear_triton import MAX_ROWS, linear, qkv_rope_write_kv  # noqa: E402
from moechat.kernels.rope import rope_tables, rope_write_kv_ref, yarn_inv_freq_and_scale  # noqa: E402


ROWS = dict(BM=16, BN=16, BK=64, num_warps=2, num_stages=2)


@pytest.mark.parametrize("M,N,K,bias,config", [
    (1, 37, 200, True, dict(BN=4, BK=64, num_warps=4)),   # N not a multiple of BN, K with a tail after 3 tiles
    (1, 16, 128, False, dict(BN=8, BK=128, num_warps=2)),  # no tail, no bias
    (1, 5, 40, True, dict(BN=4, BK=64, num_warps=1)),      # K shorter than one tile
    (3, 37, 200, True, ROWS),                              # a few rows: the MMA band, partial N band, K tail
    (8, 32, 128, False, ROWS),                             # the most rows it takes, whole tiles
    (1, 20, 64, True, ROWS),                               # one row through the MMA band
])
def test_decode_linear(M, N, K, bias, config):
    g = torch.Generator().manual_seed(N + K)
    x = torch.randn(M, K, generator=g).to(DEV, torch.float16)
    w = torch.randn(N, K, generator=g).to(DEV, torch.float16)
    b = torch.randn(N, generator=g).to(DEV, torch.float16) if bias else None
    ref = torch.nn.functional.linear(x.float(), w.float(), b.float() if bias else None)
    out = linear(x, w, b, config)
    assert out.shape == (M, N) and out.dtype == torch.float16
    torch.testing.assert_close(out.float(), ref, rtol=2e-3, atol=2e-2)


def test_more_rows_or_fp32_take_f_linear():
    g = torch.Generator().manual_seed(3)
    w, b = torch.randn(8, 32, generator=g), torch.randn(8, generator=g)
    # too many rows, fp32, or a few rows of a short K (cuBLAS measured faster there)
    for x in (torch.randn(MAX_ROWS + 1, 32, generator=g).half(), torch.randn(1, 32, generator=g),
              torch.randn(3, 32, generator=g).half()):
        w_, b_ = w.to(x.dtype), b.to(x.dtype)
        assert torch.equal(linear(x, w_, b_), torch.nn.functional.linear(x, w_, b_))
    empty, w0 = torch.zeros(1, 0).half(), torch.zeros(8, 0).half()  # K = 0: no first K step to load
    assert torch.equal(linear(empty, w0, b.half()), torch.nn.functional.linear(empty, w0, b.half()))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("M", [1, 2, 8])
@pytest.mark.parametrize("N,K", [(5120, 2880), (2880, 4096)])  # gpt-oss-20b's qkv and o-projection
def test_gpu_decode_linear_real_sizes(M, N, K):
    g = torch.Generator().manual_seed(N)
    x = torch.randn(M, K, generator=g).to(DEV, torch.bfloat16)
    w = (0.02 * torch.randn(N, K, generator=g)).to(DEV, torch.bfloat16)
    b = torch.randn(N, generator=g).to(DEV, torch.bfloat16)
    ref = torch.nn.functional.linear(x.float(), w.float(), b.float())
    torch.testing.assert_close(linear(x, w, b).float(), ref, rtol=1e-2, atol=1e-2)


def check_qkv_rope(T: int, hq: int, hkv: int, d: int, K: int, dtype, tol: float) -> None:
    """A few tokens' qkv projection + RoPE + KV-cache write in one kernel == linear, then rope_write_kv_ref."""
    g = torch.Generator().manual_seed(hq + K + T)
    N = (hq + 2 * hkv) * d
    x = torch.randn(T, K, generator=g).to(DEV, dtype)
    w = (torch.randn(N, K, generator=g) / K ** 0.5).to(DEV, dtype)
    b = torch.randn(N, generator=g).to(DEV, dtype)
    inv_freq, scale = yarn_inv_freq_and_scale(d, 150000.0, 32.0, 32.0, 1.0, 64, False)
    cos, sin = rope_tables(4096, inv_freq, scale, DEV)
    pos = torch.randint(0, 4096, (T,), generator=g).to(DEV)
    blocks, page = 5, 16
    slots = torch.randperm(blocks * page, generator=g)[:T].to(DEV)
    kc, vc = (torch.randn(blocks, page, hkv, d, generator=g).to(DEV, dtype) for _ in range(2))  # other slots kept
    kr, vr = kc.clone(), vc.clone()
    q = qkv_rope_write_kv(x, w, b, hq, cos, sin, pos, kc, vc, slots)
    qkv = torch.nn.functional.linear(x.float(), w.float(), b.float()).to(dtype)  # the projection, rounded once
    ref_q = rope_write_kv_ref(qkv[:, :hq * d].view(T, hq, d), qkv[:, hq * d:(hq + hkv) * d].view(T, hkv, d),
                              qkv[:, (hq + hkv) * d:].view(T, hkv, d), cos, sin, pos, kr, vr, slots)
    assert q.shape == (T, hq, d)
    torch.testing.assert_close(q, ref_q, rtol=tol, atol=tol)
    torch.testing.assert_close(kc, kr, rtol=tol, atol=tol)
    torch.testing.assert_close(vc, vr, rtol=tol, atol=tol)


@pytest.mark.parametrize("T", [1, 3])  # the GEMV, the MMA band
def test_qkv_rope_write_kv(T):
    check_qkv_rope(T, 4, 2, 16, 40, torch.float16, 2e-3)  # K shorter than a tile: its tail only


def test_qkv_rope_write_kv_declines():
    """More rows than MAX_ROWS, or fp32: None, so the caller runs linear + rope_write_kv."""
    x = torch.randn(MAX_ROWS + 1, 40, dtype=torch.float16, device=DEV)
    cache = torch.zeros(2, 16, 2, 16, dtype=torch.float16, device=DEV)
    w, b = torch.randn(128, 40, dtype=torch.float16, device=DEV), torch.zeros(128, dtype=torch.float16, device=DEV)
    assert qkv_rope_write_kv(x, w, b, 4, None, None, None, cache, cache, None) is None
    assert qkv_rope_write_kv(x[:1].float(), w.float(), b.float(), 4, None, None, None, cache, cache, None) is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("T", [1, 2, 8])
def test_gpu_qkv_rope_write_kv_real_sizes(T):
    check_qkv_rope(T, 64, 8, 64, 2880, torch.bfloat16, 2e-2)  # gpt-oss-20b
