"""Triton routing and MXFP4 MoE against route_ref / moe_ref.

Without CUDA the kernels run in Triton's interpreter (small sizes, fp32/fp16); `gpu` tests run bf16 at
gpt-oss-20b sizes (hidden 2880, intermediate 2880, 32 experts, top-4)."""

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"  # read when the kernels below are decorated

from moechat.kernels.moe import moe_ref, route_ref  # noqa: E402
from moechat.kernels.moe_triton import moe, route  # noqa: E402

DEV = "cuda" if torch.cuda.is_available() else "cpu"
LIMIT = 7.0
# the interpreter evaluates sigmoid(-large) through an exp that overflows to inf (result 0, as on the GPU)
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp")


def make_experts(E: int, H: int, I: int, dtype, g, scale_lo: int, scale_hi: int) -> dict:
    def u8(*shape, low=0, high=256):
        return torch.randint(low, high, shape, generator=g, dtype=torch.uint8).to(DEV)

    return {
        "w1_blocks": u8(E, 2 * I, H // 32, 16), "w1_scales": u8(E, 2 * I, H // 32, low=scale_lo, high=scale_hi),
        "w1_bias": torch.randn(E, 2 * I, generator=g).to(DEV, dtype),
        "w2_blocks": u8(E, H, I // 32, 16), "w2_scales": u8(E, H, I // 32, low=scale_lo, high=scale_hi),
        "w2_bias": torch.randn(E, H, generator=g).to(DEV, dtype),
    }


def close(a: torch.Tensor, b: torch.Tensor, tol: float) -> None:
    err = (a.float() - b.float()).abs().max().item()
    assert err <= tol * max(1.0, b.float().abs().max().item()), err


@pytest.mark.parametrize("T,dtype", [(1, torch.float32), (19, torch.float32), (6, torch.float16)])
def test_route(T, dtype):
    g = torch.Generator().manual_seed(T)
    x = torch.randn(T, 96, generator=g).to(DEV, dtype)
    w = torch.randn(8, 96, generator=g).to(DEV, dtype)
    b = torch.randn(8, generator=g).to(DEV, dtype)
    weights, idx = route(x, w, b, 4)
    ref_w, ref_idx = route_ref(x, w, b, 4)
    assert torch.equal(idx.long(), ref_idx)
    close(weights, ref_w, 1e-5)


def routing(T: int, E: int, k: int, g, experts_used: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random distinct experts per token drawn from the first `experts_used` (the rest get no tokens)."""
    idx = torch.stack([torch.randperm(experts_used, generator=g)[:k] for _ in range(T)])
    weights = torch.softmax(torch.randn(T, k, generator=g), dim=-1)
    return weights.to(DEV), idx.to(DEV)


@pytest.mark.parametrize("T,experts_used,dtype", [
    (1, 8, torch.float32),    # one token: 4 of 8 experts idle
    (37, 5, torch.float32),   # several row tiles per expert, 3 experts with no tokens
    (5, 8, torch.float16),
])
def test_moe(T, experts_used, dtype):
    g = torch.Generator().manual_seed(T)
    E, H, I, k = 8, 64, 96, 4
    experts = make_experts(E, H, I, dtype, g, 122, 129)
    x = (2 * torch.randn(T, H, generator=g)).to(DEV, dtype)  # large enough that the SwiGLU clamps bite
    weights, idx = routing(T, E, k, g, experts_used)
    ref = moe_ref(x, weights, idx, experts, LIMIT)
    close(moe(x, weights, idx, experts, LIMIT), ref, 1e-5 if dtype == torch.float32 else 5e-3)


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 8, 300])
def test_gpu_moe_real_sizes(T):
    g = torch.Generator().manual_seed(T)
    E, H, k = 32, 2880, 4
    experts = make_experts(E, H, H, torch.bfloat16, g, 119, 122)
    x = torch.randn(T, H, generator=g).to(DEV, torch.bfloat16)
    router_w = (0.02 * torch.randn(E, H, generator=g)).to(DEV, torch.bfloat16)
    router_b = torch.randn(E, generator=g).to(DEV, torch.bfloat16)
    weights, idx = route(x, router_w, router_b, k)
    ref_w, ref_idx = route_ref(x, router_w, router_b, k)
    # bf16 logits can tie or swap by a rounding step; the picks must still be top-k of the true logits
    logits = torch.nn.functional.linear(x.float(), router_w.float(), router_b.float())
    kth = logits.topk(k).values[:, -1:]
    assert (logits.gather(1, idx.long()) >= kth - 0.05).all()
    assert (idx.long() == ref_idx).float().mean() > 0.95
    close(weights, torch.softmax(logits.gather(1, idx.long()), -1), 2e-2)
    out = moe(x, ref_w, ref_idx, experts, LIMIT)
    close(out, moe_ref(x, ref_w, ref_idx, experts, LIMIT), 2e-2)
