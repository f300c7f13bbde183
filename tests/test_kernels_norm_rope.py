"""Triton RMSNorm and RoPE (+ KV write) against their torch references.

On a machine without CUDA the kernels run in Triton's interpreter (small sizes, fp32/fp16); the `gpu` tests
run bf16 at gpt-oss-20b sizes."""

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"  # read when the kernels below are decorated

from moechat.kernels import norm_triton, rope_triton  # noqa: E402
from moechat.kernels.norm import add_rmsnorm_ref, rmsnorm_ref  # noqa: E402
from moechat.kernels.rope import apply_rope_ref, rope_tables, rope_write_kv_ref, yarn_inv_freq_and_scale  # noqa: E402

DEV = "cuda" if torch.cuda.is_available() else "cpu"


def close(a: torch.Tensor, b: torch.Tensor, tol: float) -> None:
    err = (a.float() - b.float()).abs().max().item()
    assert err <= tol * max(1.0, b.float().abs().max().item()), err


@pytest.mark.parametrize("rows,n,dtype", [(1, 64, torch.float32), (7, 100, torch.float16), (3, 33, torch.float32)])
def test_rmsnorm(rows, n, dtype):
    g = torch.Generator().manual_seed(rows * n)
    x = torch.randn(rows, n, generator=g).to(DEV, dtype)
    r = torch.randn(rows, n, generator=g).to(DEV, dtype)
    w = (1 + 0.1 * torch.randn(n, generator=g)).to(DEV, dtype)
    tol = 1e-5 if dtype == torch.float32 else 2e-3
    close(norm_triton.rmsnorm(x, w, 1e-5), rmsnorm_ref(x, w, 1e-5), tol)
    out, s = norm_triton.add_rmsnorm(x, r, w, 1e-5)
    ref_out, ref_s = add_rmsnorm_ref(x, r, w, 1e-5)
    assert torch.equal(s, ref_s)
    close(out, ref_out, tol)


def tables(d: int, max_pos: int):
    inv_freq, scale = yarn_inv_freq_and_scale(d, 150000.0, 32.0, 32.0, 1.0, 64, False)
    return rope_tables(max_pos, inv_freq, scale, DEV)


def qkv_views(T: int, hq: int, hkv: int, d: int, dtype, g):
    """q, k, v as strided views of one fused projection, as the model slices them."""
    qkv = torch.randn(T, (hq + 2 * hkv) * d, generator=g).to(DEV, dtype)
    q = qkv[:, :hq * d].view(T, hq, d)
    k = qkv[:, hq * d:(hq + hkv) * d].view(T, hkv, d)
    v = qkv[:, (hq + hkv) * d:].view(T, hkv, d)
    return q, k, v


@pytest.mark.parametrize("T,hq,hkv,d,dtype", [(1, 4, 2, 16, torch.float32), (9, 6, 2, 32, torch.float16)])
def test_rope_and_kv_write(T, hq, hkv, d, dtype):
    g = torch.Generator().manual_seed(T)
    cos, sin = tables(d, 512)
    q, k, v = qkv_views(T, hq, hkv, d, dtype, g)
    pos = torch.randint(0, 512, (T,), generator=g).to(DEV)
    tol = 1e-5 if dtype == torch.float32 else 2e-3
    close(rope_triton.apply_rope(q, cos, sin, pos), apply_rope_ref(q, cos, sin, pos), tol)
    blocks, page = 6, 4
    slots = torch.randperm(blocks * page, generator=g)[:T].to(DEV)
    kc, vc = (torch.zeros(blocks, page, hkv, d, device=DEV, dtype=dtype) for _ in range(2))
    kr, vr = kc.clone(), vc.clone()
    q_rot = rope_triton.rope_write_kv(q, k, v, cos, sin, pos, kc, vc, slots)
    close(q_rot, rope_write_kv_ref(q, k, v, cos, sin, pos, kr, vr, slots), tol)
    close(kc, kr, tol)
    assert torch.equal(vc, vr)


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 8, 1000])
def test_gpu_norm_rope_real_sizes(T):
    g = torch.Generator().manual_seed(T)
    x = torch.randn(T, 2880, generator=g).to(DEV, torch.bfloat16)
    r = torch.randn(T, 2880, generator=g).to(DEV, torch.bfloat16)
    w = (1 + 0.1 * torch.randn(2880, generator=g)).to(DEV, torch.bfloat16)
    close(norm_triton.rmsnorm(x, w, 1e-5), rmsnorm_ref(x, w, 1e-5), 1e-2)
    out, s = norm_triton.add_rmsnorm(x, r, w, 1e-5)
    ref_out, ref_s = add_rmsnorm_ref(x, r, w, 1e-5)
    assert torch.equal(s, ref_s)
    close(out, ref_out, 1e-2)
    cos, sin = tables(64, 131072)
    q, k, v = qkv_views(T, 64, 8, 64, torch.bfloat16, g)
    pos = torch.randint(0, 131072, (T,), generator=g).to(DEV)
    slots = torch.randperm(4096 * 16, generator=g)[:T].to(DEV)
    kc, vc = (torch.zeros(4096, 16, 8, 64, device=DEV, dtype=torch.bfloat16) for _ in range(2))
    kr, vr = kc.clone(), vc.clone()
    q_rot = rope_triton.rope_write_kv(q, k, v, cos, sin, pos, kc, vc, slots)
    close(q_rot, rope_write_kv_ref(q, k, v, cos, sin, pos, kr, vr, slots), 1e-2)
    close(kc, kr, 1e-2)
    assert torch.equal(vc, vr)
