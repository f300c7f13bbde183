"""Triton routing and MXFP4 MoE against route_ref / moe_ref.

Without CUDA the kernels run in Triton's interpreter (small sizes, fp32/fp16); `gpu` tests run bf16 at
gpt-oss-20b sizes (hidden 2880, intermediate 2880, 32 experts, top-4)."""

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"  # read when the kernels below are decorated

from moechat.kernels.moe import dequant_mxfp4, moe_ref, pad_scale_rows, route_ref  # noqa: E402
from moechat.kernels import moe_triton, moe_wgmma, norm_triton  # noqa: E402
from moechat.kernels.norm import add_rmsnorm_ref  # noqa: E402
from moechat.kernels.moe_triton import moe, route  # noqa: E402
import triton  # noqa: E402
import triton.language as tl  # noqa: E402

import ptx_sim  # noqa: E402

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


SPLIT_ROUTE = dict(BT=16, BK=32, SPLIT=2, num_warps=4, num_stages=1)  # 96 = 64 + a 32 tail split
PRELOAD_ROUTE = dict(SPLIT_ROUTE, PRELOAD=True)  # each split's router columns in one masked load and one dot


@pytest.mark.parametrize("T,dtype,config", [(1, torch.float32, None), (19, torch.float32, None),
                                            (6, torch.float16, None), (1, torch.float32, SPLIT_ROUTE),
                                            (19, torch.float32, SPLIT_ROUTE), (6, torch.float16, SPLIT_ROUTE),
                                            (19, torch.float32, PRELOAD_ROUTE)])
def test_route(T, dtype, config):
    g = torch.Generator().manual_seed(T)
    x = torch.randn(T, 96, generator=g).to(DEV, dtype)
    w = torch.randn(8, 96, generator=g).to(DEV, dtype)
    b = torch.randn(8, generator=g).to(DEV, dtype)
    weights, idx = route(x, w, b, 4, config=config)
    ref_w, ref_idx = route_ref(x, w, b, 4)
    assert torch.equal(idx.long(), ref_idx)
    close(weights, ref_w, 1e-5)
    if config is not None:  # the split kernel's last program picks and leaves the arrival counts at zero,
        assert not moe_triton._ARRIVALS[x.device].any()  # so the next call (a graph replay) picks again
        again_w, again_idx = route(x, w, b, 4, config=config)
        assert torch.equal(again_idx, idx) and torch.equal(again_w, weights)


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


SMALL = dict(BM=16, BN=32, BK=64, num_warps=4, num_stages=1)  # I=96: a K tail after one full tile
SWAP = dict(SMALL, SWAP=True)
WORDS = dict(SMALL, BK=128, S32=True)  # a whole 32-bit word of scales per K step
GEMV = dict(GEMV=True, BN=32, BK=64, num_warps=4, num_stages=1)  # CUDA-core path: each pair reads its own expert


@pytest.mark.parametrize("T,k,configs,dtype", [
    (1, 4, None, torch.float32),                        # one token (single-chunk count + scatter)
    (2, 3, None, torch.float16),                        # k not a power of two
    (1, 4, (SWAP, SWAP), torch.float32),                # transposed product (decode tiles)
    (3, 3, (SWAP, SWAP), torch.float16),                # tokens sharing experts, a partial row tile
    (3, 4, (SMALL, dict(SMALL, SPLIT=2)), torch.float32),  # down GEMM split over K (96 = 64 + a 32 tail split)
    (3, 4, (SWAP, dict(SWAP, SPLIT=2)), torch.float32),
    (3, 4, (dict(SMALL, BK=32, SPLIT=2), SMALL), torch.float32),  # up GEMM split over K, then SwiGLU of the sum
    (2, 3, (dict(SWAP, BK=32, SPLIT=2), SWAP), torch.float16),
    (3, 4, (SWAP, dict(SMALL, SPLIT=2)), torch.float16),
    (3, 4, (dict(SMALL, AHEAD=True), dict(SWAP, AHEAD=True, SPLIT=2)), torch.float16),  # scales a K step ahead
    (3, 4, (dict(SMALL, EARLY=True), dict(SWAP, EARLY=True, SPLIT=2)), torch.float32),  # scales first in a step
    (1, 4, (GEMV, GEMV), torch.float32),                # one row per expert: GEMVs, down with a K tail (96)
    (2, 4, (GEMV, dict(GEMV, BN=16, BK=32)), torch.float16),  # two tokens, an expert shared by both
    (1, 4, (dict(GEMV, BK=128), dict(GEMV, BK=128)), torch.float32),  # K 64 and 96 < BK: the masked step only
    (2, 4, (dict(GEMV, BK=32, PIPE=2), dict(GEMV, PIPE=2)), torch.float32),  # pipelined: the tail's loads first
])
def test_moe_tiles(T, k, configs, dtype):
    g = torch.Generator().manual_seed(100 + T)
    E, H, I = 8, 64, 96
    experts = make_experts(E, H, I, dtype, g, 122, 129)
    x = (2 * torch.randn(T, H, generator=g)).to(DEV, dtype)
    weights, idx = routing(T, E, k, g, 6)
    ref = moe_ref(x, weights, idx, experts, LIMIT)
    out = moe(x, weights, idx, experts, LIMIT, configs=configs)
    close(out, ref, 1e-5 if dtype == torch.float32 else 5e-3)
    assert torch.equal(moe(x, weights, idx, experts, LIMIT, configs=configs), out)  # fixed summation orders


@pytest.mark.parametrize("T,configs,dtype", [
    (3, None, torch.float32), (2, (SWAP, dict(SWAP, SPLIT=2)), torch.float16),
    (3, (dict(SMALL, BK=32, SPLIT=2), dict(SMALL, AHEAD=True)), torch.float32),
    (1, (dict(WORDS, EARLY=True), dict(WORDS, SPLIT=2)), torch.float32), (1, (GEMV, GEMV), torch.float32)])
def test_moe_blocked_rows(T, configs, dtype):
    """Packed weights in block_rows' layout (16-row blocks of 32-byte chunks, groups padded to even) give the
    row-major result; the K tail (3 groups padded to 4) included."""
    g = torch.Generator().manual_seed(40 + T)
    E, H, I = 8, 64, 96
    experts = make_experts(E, H, I, dtype, g, 122, 129)
    x = (2 * torch.randn(T, H, generator=g)).to(DEV, dtype)
    weights, idx = routing(T, E, 4, g, 6)
    blocked = dict(experts)
    moe_triton.lay_out_experts(blocked, blocked=True)  # as the engine holds them on an H100
    assert blocked["w2_blocks"].shape == (E, H // 16, 2, 16, 32) and blocked["w1_blocks"].shape[2] == 1
    close(moe(x, weights, idx, blocked, LIMIT, configs=configs), moe_ref(x, weights, idx, experts, LIMIT),
          1e-5 if dtype == torch.float32 else 5e-3)


def test_lay_out_experts_default(monkeypatch):
    """The engine's expert layout: block_rows' 16-row blocks only where block_rows_pay (an H100), else the
    checkpoint's rows; the scale rows padded to 32-bit words either way."""
    for pays in (False, True):
        monkeypatch.setattr(moe_triton, "block_rows_pay", lambda device: pays)
        experts = make_experts(8, 64, 96, torch.float32, torch.Generator().manual_seed(3), 122, 129)
        rows = experts["w1_blocks"]
        moe_triton.lay_out_experts(experts)
        assert experts["w1_blocks"].dim() == (5 if pays else 4)
        assert torch.equal(experts["w1_blocks"] if not pays else moe_triton.row_major(experts["w1_blocks"]), rows)
        assert experts["w2_scales"].stride(1) % 4 == 0


@pytest.mark.parametrize("configs", [(WORDS, WORDS), (dict(WORDS, SWAP=True), dict(WORDS, SPLIT=2)),
                                     (dict(WORDS, AHEAD=True), dict(WORDS, AHEAD=True, SPLIT=2))])
def test_moe_word_scales(configs):
    """Scale rows padded to 32-bit words are read a word (4 groups) at a time; same result."""
    g = torch.Generator().manual_seed(5)
    experts = make_experts(8, 64, 96, torch.float32, g, 122, 129)
    padded = dict(experts, **{k: pad_scale_rows(experts[k]) for k in ("w1_scales", "w2_scales")})
    assert padded["w2_scales"].stride(1) == 4 and torch.equal(padded["w2_scales"], experts["w2_scales"])
    x = (2 * torch.randn(3, 64, generator=g)).to(DEV)
    weights, idx = routing(3, 8, 4, g, 6)
    ref = moe_ref(x, weights, idx, experts, LIMIT)
    close(moe(x, weights, idx, padded, LIMIT, configs=configs), ref, 1e-5)


@pytest.mark.parametrize("T,configs", [(3, None), (2, (SMALL, dict(SMALL, SPLIT=2)))])
def test_moe_add_rmsnorm(T, configs):
    """The MoE's slots (and K splits) summed inside the next residual add + norm: same as moe then add_rmsnorm."""
    g = torch.Generator().manual_seed(11 + T)
    experts = make_experts(8, 64, 96, torch.float16, g, 122, 129)
    x, residual = ((2 * torch.randn(T, 64, generator=g)).to(DEV, torch.float16) for _ in range(2))
    norm_w = torch.rand(64, generator=g).to(DEV, torch.float16) + 0.5
    weights, idx = routing(T, 8, 4, g, 6)
    y = moe_triton.moe_pairs(x, weights, idx, experts, LIMIT, configs)
    h, total = norm_triton.add_rmsnorm(y, residual, norm_w, 1e-5, top_k=4)
    ref_h, ref_total = add_rmsnorm_ref(moe(x, weights, idx, experts, LIMIT, configs), residual, norm_w, 1e-5)
    assert torch.equal(total, ref_total)  # the same sum in the same order, rounded once
    close(h, ref_h, 5e-3)
    h, total = moe_triton.moe_add_rmsnorm(x, weights, idx, experts, LIMIT, residual, norm_w, 1e-5)
    close(total, add_rmsnorm_ref(moe_ref(x, weights, idx, experts, LIMIT), residual, norm_w, 1e-5)[1], 5e-3)


def check_add_rmsnorm_route(a, residual, norm_w, router_w, router_b, k, config, tol):
    """add_rmsnorm_route == add_rmsnorm_ref then route_ref of its h; where the route kernel grouped the pairs,
    the groups are the experts' counts and the pairs in expert order (stable), as moe_pairs would group them."""
    h, total, (weights, idx, groups, _) = moe_triton.add_rmsnorm_route(a, residual, norm_w, 1e-5, router_w,
                                                                       router_b, k, config)
    ref_h, ref_total = add_rmsnorm_ref(a, residual, norm_w, 1e-5)
    assert torch.equal(total, ref_total)
    close(h, ref_h, tol)
    ref_w, ref_idx = route_ref(h, router_w, router_b, k)
    if a.dtype == torch.bfloat16:  # bf16 logits can tie or swap by a rounding step (test_gpu_moe_real_sizes)
        same = (idx.long() == ref_idx).all(1)
        assert same.float().mean() > 0.9
        close(weights[same], ref_w[same], 2e-2)
    else:
        assert torch.equal(idx.long(), ref_idx)
        close(weights, ref_w, 1e-5 if a.dtype == torch.float32 else 1e-3)
    if groups is not None:
        E = router_w.shape[0]
        counts, order = groups
        assert torch.equal(counts[:E].long(), torch.bincount(idx.flatten().long(), minlength=E))
        assert torch.equal(order.long(), torch.argsort(idx.flatten(), stable=True))
    return groups


def planes_ref(x: torch.Tensor) -> torch.Tensor:
    """The decode GEMVs' activation planes of rows x [T, K], built from their definition: each 8-column word's
    columns in the order 0, 2, 1, 3, 4, 6, 5, 7, in fp16."""
    T, K = x.shape
    return x.float().view(T, K // 8, 8)[..., [0, 2, 1, 3, 4, 6, 5, 7]].half().reshape(T, K)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_activation_planes(dtype):
    """The planes kernel lays out each row's activations as the fp16 operand words of the GEMVs' PTX."""
    x = torch.randn(3, 96, generator=torch.Generator().manual_seed(5)).to(DEV, dtype) * 40
    assert torch.equal(moe_triton.activation_planes(x), planes_ref(x))


@triton.jit
def _step_planes_probe(planes_ptr, out_ptr, K0: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    """Stores the 4 operand tensors of one pipelined GEMV step (_step_planes), then those _pair_words' loads give."""
    off = tl.arange(0, BN)[:, None] * (BK // 8) + tl.arange(0, BK // 8)[None, :]
    pairs = moe_triton._pair_words(planes_ptr, K0 // 8 + tl.arange(0, BK // 8), tl.arange(0, BN))
    p0, p1, p2, p3 = moe_triton._step_planes(planes_ptr, K0, BN, BK)
    size = BN * BK // 8
    tl.store(out_ptr + off, p0)
    tl.store(out_ptr + size + off, p1)
    tl.store(out_ptr + 2 * size + off, p2)
    tl.store(out_ptr + 3 * size + off, p3)
    for w in tl.static_range(4):
        tl.store(out_ptr + (4 + w) * size + off, tl.load(pairs + 4 * w))


def test_step_planes_match_pair_words():
    """A pipelined GEMV step's planes, one 1-D load spread into the PTX's 4 operand tensors, equal what the
    broadcast loads of an unpipelined step give (steps of 64 and 256 columns, at and after the first)."""
    planes = torch.randint(-2**31, 2**31 - 1, (1024,), dtype=torch.int32, generator=torch.Generator().manual_seed(3))
    planes = planes.to(DEV)
    for k0, bk in ((0, 64), (256, 64), (512, 256)):
        out = torch.zeros(8, 4 * bk // 8, dtype=torch.int32, device=DEV)
        _step_planes_probe[(1,)](planes, out, K0=k0, BN=4, BK=bk)
        assert torch.equal(out[:4], out[4:])


@pytest.mark.parametrize("one_mul", [True, False])
def test_fp4_ptx_dequantizes_like_the_reference(one_mul):
    """The inline PTX that dequantizes every weight on the GPU (the Triton tiles' and the Gluon kernels'), run
    in a simulator of its instructions on every byte value and random bytes and scales, gives the reference
    dequantization's bf16 bits, signed zeros and subnormals included. (Two multiplies, the mode for checkpoints
    with scale bytes above 128, take scales 1-254: a scale byte of 0 there gives 0, not 2^-127 times the value.)"""
    g = torch.Generator().manual_seed(11)
    n = 4096
    blocks = torch.randint(0, 256, (n, 1, 16), dtype=torch.uint8, generator=g)
    blocks[:32, 0, :8] = torch.arange(256).view(32, 8)  # every byte in every place of the words
    scales = torch.randint(0 if one_mul else 1, 129 if one_mul else 255, (n, 1), dtype=torch.uint8, generator=g)
    want = dequant_mxfp4(blocks, scales, torch.bfloat16).view(torch.int16).to(torch.int64)[:, :16] & 0xFFFF
    m = (scales[:, 0].to(torch.int64) + (126 if one_mul else 0)) << 7
    m = m | (m << 16)  # the multiplier 2^(s-1) or 2^(s-127), bf16x2
    words = [sum(blocks[:, 0, 4 * w + j].to(torch.int64) << (8 * j) for j in range(4)) for w in range(2)]

    def value(w: int, i: int, b: int) -> torch.Tensor:  # lane b of output i (_fp4_word_ptx's) for word w
        return want[:, 2 * (4 * w + 2 * (i % 2) + b) + i // 2]

    for w in range(2):
        tiles = ptx_sim.run(moe_triton._fp4_asm(one_mul), {"$4": words[w], "$5": m, "$6": m})
        for i in range(4):
            assert torch.equal(tiles[f"${i}"], value(w, i, 0) | (value(w, i, 1) << 16)), (w, i)
    gluon = ptx_sim.run(moe_wgmma._dequant_ptx(one_mul), {"$16": words[0] | (words[1] << 32), "$17": m})
    for j in range(16):
        assert torch.equal(gluon[f"${j}"], value(j // 8, (j // 2) % 4, j % 2)), j


@pytest.mark.parametrize("ptx", ["_e4m3_ptx", "_f16_weights_ptx"])
def test_gemv_weights_ptx_decodes_like_the_reference(ptx):
    """The decode GEMVs' weight PTX (sm_89+'s e4m3 conversion, sm_80's byte permutes), simulated on words holding
    every byte value: f16 registers of columns (0, 2), (1, 3), (4, 6), (5, 7) equal to the reference
    dequantization at scale 2^-6, bit for bit."""
    blocks = torch.arange(256).to(torch.uint8).view(64, 1, 4)
    want = dequant_mxfp4(torch.nn.functional.pad(blocks, (0, 12)), torch.full((64, 1), 121, dtype=torch.uint8),
                         torch.float16).view(torch.int16).to(torch.int64)[:, :8] & 0xFFFF
    word = sum(blocks[:, 0, j].to(torch.int64) << (8 * j) for j in range(4))
    regs = ptx_sim.run(getattr(moe_triton, ptx)("$0", "f"), {"$0": word, "c": torch.full_like(word, 0x5C005C00)})
    for name, (lo, hi) in {"fl01": (0, 2), "fh01": (1, 3), "fl23": (4, 6), "fh23": (5, 7)}.items():
        assert torch.equal(regs[name], want[:, lo] | (want[:, hi] << 16)), name


@pytest.mark.parametrize("e4m3", [True, False])
def test_gemv_dot_ptx_sums_a_group(e4m3):
    """The decode GEMVs' dot PTX, simulated: a 32-weight group's 4 packed words against the 16 words of its
    activation planes (word w's pairs (0, 2), (1, 3), (4, 6), (5, 7) of its 8 columns, as _plane_index lays them
    out) gives the group's sum of products, weights at scale 2^-6, within fp16's rounding of the partial sums."""
    g = torch.Generator().manual_seed(12)
    n = 4096
    blocks = torch.randint(0, 256, (n, 1, 16), generator=g, dtype=torch.uint8)
    weights = dequant_mxfp4(blocks, torch.full((n, 1), 121, dtype=torch.uint8), torch.float32).double()  # [n, 32]
    x = torch.randn(n, 32, generator=g).to(torch.float16)
    bits = x.view(torch.int16).to(torch.int64) & 0xFFFF
    regs = {f"${1 + w}": sum(blocks[:, 0, 4 * w + j].to(torch.int64) << (8 * j) for j in range(4)) for w in range(4)}
    for w in range(4):
        for i, (lo, hi) in enumerate(((0, 2), (1, 3), (4, 6), (5, 7))):
            regs[f"${5 + 4 * w + i}"] = bits[:, 8 * w + lo] | (bits[:, 8 * w + hi] << 16)
    asm = moe_triton._fp4_dot_asm(e4m3)
    got = ptx_sim.run(asm, regs)["$0"].to(torch.int16).view(torch.float16).double()
    products = weights * x.double()
    want = products.sum(1)
    assert ((got - want).abs() <= 2e-3 * products.abs().sum(1) + 1e-6).all()
    assert (got - want).abs().max() < 0.1 * want.abs().mean()  # not one word's or one pair's sum alone


def test_add_rmsnorm_route_planes(monkeypatch):
    """Where the decode GEMVs read planes (bf16 on the GPU; forced here) the split route's norm stores its output
    as planes too, equal to the planes of the h it returns; batches that group their pairs get none."""
    monkeypatch.setattr(moe_triton, "_gemv_dequant", lambda x: 3)
    g = torch.Generator().manual_seed(9)
    for T in (1, 2, 3):
        a, residual = (torch.randn(T, 96, generator=g).to(DEV, torch.float16) for _ in range(2))
        norm_w = (torch.rand(96, generator=g) + 0.5).to(DEV, torch.float16)
        w = torch.randn(8, 96, generator=g).to(DEV, torch.float16)
        b = torch.randn(8, generator=g).to(DEV, torch.float16)
        h, _, routing = moe_triton.add_rmsnorm_route(a, residual, norm_w, 1e-5, w, b, 4, SPLIT_ROUTE)
        if T * 4 > moe_triton.GEMV_PAIRS:
            assert routing.planes is None
        else:
            assert torch.equal(routing.planes, planes_ref(h))


@pytest.mark.parametrize("T,dtype,config", [(1, torch.float32, SPLIT_ROUTE), (2, torch.float16, SPLIT_ROUTE),
                                            (6, torch.float16, SPLIT_ROUTE), (19, torch.float32, SPLIT_ROUTE),
                                            (5, torch.float32, None), (1, torch.float32, PRELOAD_ROUTE),
                                            (2, torch.float16, PRELOAD_ROUTE)])
def test_add_rmsnorm_route(T, dtype, config):
    """The residual add + norm before the MoE done inside the split route (1 and 2 tokens) or by the norm kernel
    first (6, 19, and without a split); with one row block (1-6 tokens) the route also groups the pairs by expert
    for the MoE."""
    g = torch.Generator().manual_seed(40 + T)
    a, residual = (torch.randn(T, 96, generator=g).to(DEV, dtype) for _ in range(2))
    norm_w = (torch.rand(96, generator=g) + 0.5).to(DEV, dtype)
    w = torch.randn(8, 96, generator=g).to(DEV, dtype)
    b = torch.randn(8, generator=g).to(DEV, dtype)
    tol = 1e-5 if dtype == torch.float32 else 2e-3
    groups = check_add_rmsnorm_route(a, residual, norm_w, w, b, 4, config, tol)
    # (1-2 tokens take the MoE's GEMV path, which reads the route's experts directly)
    assert (groups is not None) == (config is not None and T * 4 > moe_triton.GEMV_PAIRS and T <= config["BT"])
    if groups is not None:  # called again (a graph replay): the same, the arrival counts left at zero
        assert torch.equal(check_add_rmsnorm_route(a, residual, norm_w, w, b, 4, config, tol)[1], groups[1])
        assert not moe_triton._ARRIVALS[a.device].any()
        experts = make_experts(8, 96, 64, dtype, g, 122, 129)
        h, total, (weights, idx, _, _) = moe_triton.add_rmsnorm_route(a, residual, norm_w, 1e-5, w, b, 4, config)
        grouped = moe_triton.moe_add_rmsnorm(h, weights, idx, experts, LIMIT, total, norm_w, 1e-5, groups)
        ungrouped = moe_triton.moe_add_rmsnorm(h, weights, idx, experts, LIMIT, total, norm_w, 1e-5)
        assert all(torch.equal(x, y) for x, y in zip(grouped, ungrouped))


def real_size_inputs(T: int, g: torch.Generator, E: int = 32):
    """gpt-oss-20b's MoE at T tokens in bf16 (E=128: gpt-oss-120b's): (experts, x, router weight, router bias,
    top-k)."""
    H = 2880
    experts = make_experts(E, H, H, torch.bfloat16, g, 119, 122)
    x = torch.randn(T, H, generator=g).to(DEV, torch.bfloat16)
    router_w = (0.02 * torch.randn(E, H, generator=g)).to(DEV, torch.bfloat16)
    router_b = torch.randn(E, generator=g).to(DEV, torch.bfloat16)
    return experts, x, router_w, router_b, 4


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 2, 4, 8, 300, 1024, 2500])  # 1024: the 64-row down tile; 2500: prefill tiles
def test_gpu_moe_real_sizes(T):
    g = torch.Generator().manual_seed(T)
    experts, x, router_w, router_b, k = real_size_inputs(T, g)
    experts.update({k: pad_scale_rows(experts[k]) for k in ("w1_scales", "w2_scales")})  # as the engine holds them
    weights, idx = route(x, router_w, router_b, k)
    ref_w, ref_idx = route_ref(x, router_w, router_b, k)
    # bf16 logits can tie or swap by a rounding step; the picks must still be top-k of the true logits
    logits = torch.nn.functional.linear(x.float(), router_w.float(), router_b.float())
    kth = logits.topk(k).values[:, -1:]
    assert (logits.gather(1, idx.long()) >= kth - 0.05).all()
    assert (idx.long() == ref_idx).float().mean() > 0.95
    close(weights, torch.softmax(logits.gather(1, idx.long()), -1), 2e-2)
    ref = moe_ref(x, ref_w, ref_idx, experts, LIMIT)
    close(moe(x, ref_w, ref_idx, experts, LIMIT), ref, 2e-2)
    blocked = dict(experts, **{k: moe_triton.block_rows(experts[k]) for k in ("w1_blocks", "w2_blocks")})
    close(moe(x, ref_w, ref_idx, blocked, LIMIT), ref, 2e-2)  # as the engine holds them on an H100


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 8, 64, 300, 1024, 4096])
def test_gpu_moe_120b_experts(T):
    """gpt-oss-120b's 128 experts, where the same token counts give a quarter of the rows per expert (the dispatch
    picks other tiles: at 8 tokens most experts get none, at 4096 the 128-row Gluon tiles), as the engine holds
    them, against the reference."""
    g = torch.Generator().manual_seed(200 + T)
    experts, x, router_w, router_b, k = real_size_inputs(T, g, E=128)
    experts.update({k: pad_scale_rows(experts[k]) for k in ("w1_scales", "w2_scales")})
    weights, idx = route(x, router_w, router_b, k)
    close(moe(x, weights, idx, experts, LIMIT), moe_ref(x, weights, idx.long(), experts, LIMIT), 2e-2)


WGMMA = dict(BW=128, BT=64, STAGES=3)


@pytest.mark.parametrize("tokens,gluon", [(2, False), (8, True), (64, True), (256, True), (1024, True),
                                           (8192, False)])
def test_dispatch_gives_gluon_up_to_256_rows_per_expert(tokens, gluon, monkeypatch):
    """On a CUDA GPU, batches past the GEMVs' up to 256 rows per expert (gpt-oss-20b: 32 experts, top 4) go to the
    Gluon kernels with their configs, where moe_wgmma.fits; other sizes keep the Triton kernels."""
    configs = moe_triton._configs(4 * tokens, 32, torch.bfloat16, torch.device("cuda"))
    assert all(("WGMMA" in c) == gluon for c in configs)
    if not gluon:
        return
    calls = []
    monkeypatch.setattr(moe_wgmma, "fits", lambda x, experts, config: True)
    monkeypatch.setattr(moe_wgmma, "moe_pairs", lambda *args: calls.append(args[-2:]) or "gluon")
    g = torch.Generator().manual_seed(6)
    experts = make_experts(4, 128, 128, torch.float32, g, 119, 122)
    x = torch.randn(3, 128, generator=g)
    weights, idx = route_ref(x, torch.randn(4, 128, generator=g), torch.zeros(4), 2)
    assert moe_triton.moe_pairs(x, weights, idx.int(), experts, LIMIT, configs) == "gluon"
    assert calls == [tuple(c["WGMMA"] for c in configs)]


def test_wgmma_fits_refuses_cpu_and_block_rows():
    """The Gluon MoE is asked only for what it can run: not on the CPU, not for block_rows' layout."""
    g = torch.Generator().manual_seed(5)
    experts = make_experts(4, 128, 128, torch.float32, g, 119, 122)
    x = torch.randn(3, 128, generator=g)
    assert not moe_wgmma.fits(x, experts, WGMMA)
    assert not moe_wgmma.fits(x.bfloat16(), experts, WGMMA)  # a CPU tensor
    blocked = dict(experts, **{k: moe_triton.block_rows(experts[k]) for k in ("w1_blocks", "w2_blocks")})
    assert not moe_wgmma.fits(x.bfloat16(), blocked, WGMMA)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available() or torch.cuda.get_device_capability() != (9, 0),
                    reason="the Gluon MoE is sm_90's")
@pytest.mark.parametrize("T,one_mul,tile", [(40, True, WGMMA), (300, True, WGMMA), (300, False, WGMMA),
                                            (1024, True, WGMMA), (300, True, dict(WGMMA, BW=64, BT=32)),
                                            (150, True, dict(WGMMA, HALF=True, maxnreg=168)),
                                            (60, True, dict(WGMMA, BT=16)),
                                            (300, True, dict(WGMMA, BW=64, STAGES=4, HALF=True, MASK=True)),
                                            (8, True, dict(WGMMA, BW=64, BT=16, STAGES=4, MASK=True)),
                                            (100, False, dict(WGMMA, BW=64, BT=32, STAGES=4, HALF=True, MASK=True))])
def test_gpu_moe_wgmma(T, one_mul, tile):
    """The Gluon grouped GEMMs (weights dequantized into the warpgroup MMA's registers, K in k_order) against the
    reference in bf16 at real sizes: experts with no tokens (40 tokens), one and several row tiles per expert, both
    multiplier modes."""
    g = torch.Generator().manual_seed(70 + T)
    experts, x, router_w, router_b, k = real_size_inputs(T, g)
    experts.update({k: pad_scale_rows(experts[k]) for k in ("w1_scales", "w2_scales")})
    experts["max_scale"] = 122 if one_mul else 255
    weights, idx = route(x, router_w, router_b, k)
    if T == 40:
        assert idx.unique().numel() < 32
    assert moe_wgmma.fits(x, experts, tile)
    out = moe(x, weights, idx, experts, LIMIT, ({"WGMMA": tile}, {"WGMMA": tile}))
    close(out, moe_ref(x, weights, idx.long(), experts, LIMIT), 2e-2)


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 300])
def test_gpu_moe_portable_dequant(T, monkeypatch):
    """What GPUs before sm_80 run (the portable dequantization in the GEMVs and the MMA tiles; compiled for them in
    test_kernels_targets) agrees with the reference in bf16 at real sizes."""
    monkeypatch.setattr(moe_triton, "_ptx_capability", lambda x: (7, 5))
    g = torch.Generator().manual_seed(11 + T)
    experts, x, router_w, router_b, k = real_size_inputs(T, g)
    weights, idx = route(x, router_w, router_b, k)
    close(moe(x, weights, idx, experts, LIMIT), moe_ref(x, weights, idx.long(), experts, LIMIT), 2e-2)


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 2, 300])
def test_gpu_moe_sm80_paths(T, monkeypatch):
    """What sm_80-86 GPUs run (the GEMVs' weights built by prmt instead of the e4m3 conversion, the MMA tiles' fma
    with -0) gives this GPU's outputs bit for bit (bf16, real sizes)."""
    g = torch.Generator().manual_seed(21 + T)
    experts, x, router_w, router_b, k = real_size_inputs(T, g)
    weights, idx = route(x, router_w, router_b, k)
    here = moe(x, weights, idx, experts, LIMIT)
    monkeypatch.setattr(moe_triton, "_ptx_capability", lambda x: (8, 0))
    assert moe_triton._gemv_dequant(x) == 4 and moe_triton._dequant_mode(x, experts) > 0
    assert torch.equal(moe(x, weights, idx, experts, LIMIT), here)
    close(here, moe_ref(x, weights, idx.long(), experts, LIMIT), 2e-2)


@pytest.mark.gpu
@pytest.mark.parametrize("scale", [2.0 ** -9, 2.0 ** 9])
def test_gpu_moe_gemv_activation_range(scale):
    """The decode GEMVs' fp16 products (weights * 2^-6 against fp16 activations, 32-weight sums in fp16) keep
    their accuracy for activations hundreds of times smaller or larger than the usual (bf16, real sizes)."""
    g = torch.Generator().manual_seed(3)
    experts, x, router_w, router_b, k = real_size_inputs(2, g)
    experts.update(w1_bias=torch.zeros_like(experts["w1_bias"]), w2_bias=torch.zeros_like(experts["w2_bias"]))
    x = x * scale  # no biases: every output is the products' (the tolerance scales with the output)
    weights, idx = route(x, router_w, router_b, k)
    out, ref = moe(x, weights, idx, experts, LIMIT), moe_ref(x, weights, idx.long(), experts, LIMIT)
    assert (out.float() - ref.float()).abs().max() <= 2e-2 * ref.float().abs().max()


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 2, 8, 16, 17])  # 17: past one row block of the split route
def test_gpu_add_rmsnorm_route_real_sizes(T):
    g = torch.Generator().manual_seed(50 + T)
    _, a, router_w, router_b, k = real_size_inputs(T, g)
    residual = torch.randn(T, 2880, generator=g).to(DEV, torch.bfloat16)
    norm_w = (torch.rand(2880, generator=g) + 0.5).to(DEV, torch.bfloat16)
    groups = check_add_rmsnorm_route(a, residual, norm_w, router_w, router_b, k, None, 1e-2)
    assert (groups is not None) == (2 < T <= 16)


GEMV_TILES = ((16, 256, 1, 1), (16, 512, 2, 1), (64, 256, 8, 1), (16, 256, 1, 3), (8, 512, 1, 2))  # BN, BK, warps, PIPE


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 4, 8, 64])
def test_gpu_moe_tiles_and_dequant(T):
    """Every benchmarked MoE tile (transposed or not, split or not) and both PTX dequantizations (one multiply
    when scales <= 128, two otherwise), and the route's tiles, agree with the reference at real sizes."""
    from moechat.kernels.bench import moe_candidates

    g = torch.Generator().manual_seed(7 + T)
    experts, x, router_w, router_b, k = real_size_inputs(T, g)
    weights, idx = route(x, router_w, router_b, k)
    for cfg in (dict(BT=16, BK=256, SPLIT=1, num_warps=8, num_stages=4), dict(BT=16, BK=64, SPLIT=64, num_warps=4,
                num_stages=1), dict(BT=16, BK=128, SPLIT=8, num_warps=4, num_stages=2)):
        w2, i2 = route(x, router_w, router_b, k, config=cfg)
        assert (i2 == idx).float().mean() > 0.95  # another summation order may swap a near tie
        close(w2[(i2 == idx).all(1)], weights[(i2 == idx).all(1)], 1e-4)
    ref = moe_ref(x, weights, idx.long(), experts, LIMIT)
    mma = dict(BM=16, BN=64, BK=128, num_warps=2, num_stages=3)
    for split in (1, 3, 8):
        close(moe(x, weights, idx, experts, LIMIT, configs=(mma, dict(mma, SPLIT=split))), ref, 2e-2)
        close(moe(x, weights, idx, experts, LIMIT, configs=(dict(mma, SPLIT=split), mma)), ref, 2e-2)
    gemv = dict(GEMV=True, num_stages=1)  # the decode GEMVs at any T (each pair reads its own expert)
    blocked = dict(experts, **{k: moe_triton.block_rows(experts[k]) for k in ("w1_blocks", "w2_blocks")})
    for bn, bk, warps, pipe in GEMV_TILES:
        cfg = dict(gemv, BN=bn, BK=bk, num_warps=warps, PIPE=pipe)
        close(moe(x, weights, idx, experts, LIMIT, configs=(cfg, cfg)), ref, 2e-2)
        close(moe(x, weights, idx, blocked, LIMIT, configs=(cfg, cfg)), ref, 2e-2)
    for cfg in moe_candidates(T):
        close(moe(x, weights, idx, experts, LIMIT, configs=(cfg, cfg)), ref, 2e-2)
    one_mul = dict(experts, max_scale=121)
    assert moe_triton._dequant_mode(x, one_mul) == 2 and moe_triton._dequant_mode(x, experts) == 1
    close(moe(x, weights, idx, one_mul, LIMIT), ref, 2e-2)
    words = dict(one_mul, **{k: pad_scale_rows(one_mul[k]) for k in ("w1_scales", "w2_scales")})
    for cfg in moe_candidates(T):
        close(moe(x, weights, idx, words, LIMIT, configs=(dict(cfg, S32=True), dict(cfg, S32=True))), ref, 2e-2)
    pipelined = dict(gemv, BN=16, BK=256, num_warps=1, PIPE=3)  # loads copied ahead, the scales as words
    close(moe(x, weights, idx, words, LIMIT, configs=(pipelined, pipelined)), ref, 2e-2)


@pytest.mark.parametrize("T,E", [(1, 8), (300, 8)])  # 300 tokens: 1,200 pairs over two chunks (count kernel first)
def test_group_pairs(T, E):
    """The MoE's grouping of (token, slot) pairs: counts per expert, pairs in expert order, pair order kept."""
    g = torch.Generator().manual_seed(T)
    idx = torch.stack([torch.randperm(E, generator=g)[:4] for _ in range(T)]).int().to(DEV)
    counts, order = moe_triton._group_pairs(idx, E)
    flat = idx.flatten().long()
    assert torch.equal(counts.long(), torch.bincount(flat, minlength=E))
    assert torch.equal(order.long(), torch.argsort(flat, stable=True))
