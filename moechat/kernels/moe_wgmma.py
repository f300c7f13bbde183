"""The MoE's grouped GEMMs for Hopper (sm_90) in Gluon: the dequantized MXFP4 weights are the first operand of
warpgroup MMAs straight from registers. Each thread loads the packed bytes its own MMA fragment needs (8
contiguous bytes of a weight row: 16 weights of one scale group) and dequantizes them in place, so no dequantized
tile passes through shared memory (the Triton tiles store it, wait at a barrier and load it back in the MMA's
layout). Alone that left 256 tokens level with the Triton tiles (bench/NOTES.md, session 13); what pays is that
the MMA's width is chosen per tile (HALF), its cost showing once the hand-off is gone, and register caps that keep
three programs per SM (128 weight rows) or four (64 rows, whose programs read the activations twice as often, so
the rows past an expert's are masked: MASK). The packed bytes travel with the activations through a cp.async ring
in shared memory (STAGES - 1 steps ahead, each thread then reading its fragment's words; one buffer a slot, so
one barrier a step), their scales 2 steps ahead in registers.

The price is an order of the K columns inside each 64-column block, the one the fragment's registers take
(`k_order`): the activations are read with their columns in that order, so each dot product sums the same terms.
The up GEMM reads x[:, k_order] and stores h in the down GEMM's column order; the weights stay as stored.
Weight rows of the up GEMM are taken in pairs (gate 2i and up 2i + 1 in the two rows a thread holds), so the
SwiGLU needs no exchange between threads."""

from __future__ import annotations

import torch
import triton
from triton.experimental import gluon
from triton.experimental.gluon import language as gl
from triton.experimental.gluon.language.nvidia.ampere import async_copy
from triton.experimental.gluon.language.nvidia.hopper import warpgroup_mma, warpgroup_mma_wait

from moechat.kernels.moe import SWIGLU_ALPHA
from moechat.kernels.moe_triton import FP4_SCRATCH_PTX, _fp4_word_ptx, _swiglu
from moechat.kernels.pdl import capability

BK_COLUMNS = 64  # one K step: the 64 columns whose order the fragment fixes (k_order)
BK = gl.constexpr(BK_COLUMNS)
# Triton 3.9 renamed the asynchronous copy (the device runs 3.6; CI compiles with the newest)
_async_load = getattr(async_copy, "async_load", None) or async_copy.async_copy_global_to_shared


def k_order(K: int, device: torch.device | None = None) -> torch.Tensor:
    """Column k' of the MMA's K order -> the weight column it holds, within each 64-column block. k' = 32 w + 16 i1 +
    8 i0 + 2 q + b: lane q of a quad holds bytes 8q..8q+7 of the block (columns 16q..16q+15), word w of them, and
    _fp4_word_ptx's output 2 i1 + i0 (columns 4 i0 + i1 and + 2 of the word: half b)."""
    k = torch.arange(K, device=device)
    lo = k % BK_COLUMNS
    b, q, i0, i1, w = lo & 1, (lo >> 1) & 3, (lo >> 3) & 1, (lo >> 4) & 1, (lo >> 5) & 1
    return k - lo + 16 * q + 8 * w + 4 * i0 + i1 + 2 * b


def _dequant_ptx(one_mul: bool) -> str:
    """PTX: 8 packed bytes ($16, one 64-bit word) and their bf16x2 multiplier ($17) -> 16 bf16 ($0-$15): output
    2 (4 w + i) + b is half b of _fp4_word_ptx's output i for 32-bit word w."""
    body = ""
    for w in range(2):
        outs = tuple(f"r{4 * w + i}" for i in range(4))
        body += _fp4_word_ptx(f"w{w}", outs, "$17", "$17", one_mul)
    split = "".join(f"mov.b32 {{${2 * j}, ${2 * j + 1}}}, r{j};\n" for j in range(8))
    return ("{\n" + FP4_SCRATCH_PTX + ".reg .b32 w0, w1, r0, r1, r2, r3, r4, r5, r6, r7;\n"
            "mov.b64 {w0, w1}, $16;\n" + body + split + "}")


_DEQUANT = gl.constexpr(_dequant_ptx(True))
_DEQUANT_TWO_MULS = gl.constexpr(_dequant_ptx(False))
_DEQUANT_CONSTRAINTS = gl.constexpr(",".join(["=h"] * 16) + ",l,r")


@gluon.jit
def _add(a, b):
    return a + b


@gluon.jit
def _tile_rows(counts_ptr, t, BT: gl.constexpr, EP: gl.constexpr):
    """Row tile t of the expert-ordered pairs -> (expert, first row, end row of that expert), as moe_triton's
    _tile_rows (expert >= E past the last tile)."""
    vec: gl.constexpr = gl.BlockedLayout([1], [32], [gl.num_warps()], [0])
    ex = gl.arange(0, EP, layout=vec)
    counts = gl.load(counts_ptr + ex)
    tiles = (counts + BT - 1) // BT
    tile_end = gl.associative_scan(tiles, 0, _add)
    e = gl.sum((tile_end <= t).to(gl.int32), axis=0)
    this = ex == e
    first_tile = gl.sum(gl.where(this, tile_end - tiles, 0), axis=0)
    start = gl.sum(gl.where(this, gl.associative_scan(counts, 0, _add) - counts, 0), axis=0)
    row_end = start + gl.sum(gl.where(this, counts, 0), axis=0)
    return e, start + (t - first_tile) * BT, row_end


@gluon.jit
def _weight_rows(pid, BW: gl.constexpr, UP: gl.constexpr, layout: gl.constexpr):
    """Tile rows -> weight rows. UP: rows r and r + 8 of each 16 (one thread's pair) are the gate and up rows 2i,
    2i + 1 (the checkpoint interleaves them)."""
    r = gl.arange(0, BW, layout=layout)
    if UP:
        return pid * BW + (r // 16) * 16 + (r % 8) * 2 + (r // 8) % 2
    return pid * BW + r


@gluon.jit
def _scales_a(ws_ptr, n, k0, stride_wsn, U_LAYOUT: gl.constexpr):
    """The scale bytes [BW, BK / 16] of weight rows n at K step k0, one per packed word (8 bytes of a row), in the
    layout whose dequantized values are the MMA fragment."""
    u = gl.arange(0, BK // 16, layout=gl.SliceLayout(0, U_LAYOUT))
    return gl.load(ws_ptr + n[:, None] * stride_wsn + (k0 // 32 + u // 2)[None, :])


@gluon.jit
def _copy_words(w_smem, wb_ptr, n, k0, stride_wbn, WCOPY: gl.constexpr):
    """Packed bytes of weight rows n at K step k0 (BK / 2 bytes a row, as BK / 16 64-bit words) -> w_smem,
    asynchronously, 16 bytes a copy."""
    c = gl.arange(0, BK // 16, layout=gl.SliceLayout(0, WCOPY))
    wb64 = wb_ptr.to(gl.pointer_type(gl.uint64))
    _async_load(w_smem, wb64 + n[:, None].to(gl.int64) * (stride_wbn // 8) + (k0 // 16 + c)[None, :])


@gluon.jit
def _dequant(words, s, ONE_MUL: gl.constexpr, A_LAYOUT: gl.constexpr):
    """Packed words [BW, BK / 16] and scale bytes -> the [BW, BK] bf16 MMA operand (K in k_order), in registers."""
    m = (s.to(gl.int32) + (126 if ONE_MUL else 0)) << 7  # bf16 bits of 2^(s-1) or 2^(s-127)
    m = m | (m << 16)
    if ONE_MUL:
        o = gl.inline_asm_elementwise(_DEQUANT, _DEQUANT_CONSTRAINTS, [words, m], dtype=(gl.bfloat16,) * 16,
                                      is_pure=True, pack=1)
    else:
        o = gl.inline_asm_elementwise(_DEQUANT_TWO_MULS, _DEQUANT_CONSTRAINTS, [words, m],
                                      dtype=(gl.bfloat16,) * 16, is_pure=True, pack=1)
    # o[2 (4 w + 2 i1 + i0) + b] -> dims [row, u, b, i0, i1, w]
    t = gl.join(gl.join(gl.join(gl.join(o[0], o[1]), gl.join(o[2], o[3])),
                        gl.join(gl.join(o[4], o[5]), gl.join(o[6], o[7]))),
                gl.join(gl.join(gl.join(o[8], o[9]), gl.join(o[10], o[11])),
                        gl.join(gl.join(o[12], o[13]), gl.join(o[14], o[15]))))
    BW: gl.constexpr = words.shape[0]
    NB: gl.constexpr = words.shape[1] // 4
    t = gl.reshape(t, [BW, NB, 4, 2, 2, 2, 2])  # row, block, q, b, i0, i1, w
    t = gl.permute(t, (0, 1, 6, 5, 4, 2, 3))  # row, block, w, i1, i0, q, b: k' = 64 block + 32 w + ... (k_order)
    return gl.convert_layout(gl.reshape(t, [BW, NB * 64]), A_LAYOUT, assert_trivial=True)


@gluon.jit
def _copy_rows(b_smem, a_ptr, a_rows, k0, stride_a, LOAD: gl.constexpr, MASK: gl.constexpr):
    """Activation rows a_rows, columns k0:k0+BK (already in k_order) -> b_smem, asynchronously. MASK: rows -1 are
    zero-filled, not read."""
    k = k0 + gl.arange(0, BK, layout=gl.SliceLayout(0, LOAD))
    ptrs = a_ptr + a_rows[:, None].to(gl.int64) * stride_a + k[None, :]
    if MASK:
        _async_load(b_smem, ptrs, mask=(a_rows >= 0)[:, None] & (k >= 0)[None, :])
    else:
        _async_load(b_smem, ptrs)


@gluon.jit
def _k_step(acc, i, s, s_next, ws_ptr, n, k_next, stride_wsn, wb_ptr, n_copy, stride_wbn, w_slots, b_slots, a_ptr,
            a_rows, stride_a, steps, STAGES: gl.constexpr, ONE_MUL: gl.constexpr, A: gl.constexpr, LOAD: gl.constexpr,
            WCOPY: gl.constexpr, U_LAYOUT: gl.constexpr, SLOT: gl.constexpr, MASK: gl.constexpr):
    """K step i, in ring slot SLOT: its packed words and activations awaited in shared memory, the words read in the
    MMA fragment's layout and dequantized with their scales (s), step k_next's scales loaded into the registers they
    free, the slot step i - 1 read refilled (words and activations of step i + STAGES - 1), and the MMA. Returns
    the scales rotated (s_next, then k_next's). The one barrier a step (every warp's copies of step i landed, every
    warp past step i - 1) is Triton's, put after the wait by its hazard analysis; there is no proxy fence, as in
    Triton's own cp.async-fed wgmma loops."""
    async_copy.wait_group(STAGES - 2)
    w_op = _dequant(w_slots[SLOT].load(U_LAYOUT), s, ONE_MUL, A)
    s = _scales_a(ws_ptr, n, k_next, stride_wsn, U_LAYOUT)
    if i + STAGES - 1 < steps:
        slot: gl.constexpr = (SLOT + STAGES - 1) % STAGES
        _copy_rows(b_slots[slot], a_ptr, a_rows, (i + STAGES - 1) * BK, stride_a, LOAD, MASK)
        _copy_words(w_slots[slot], wb_ptr, n_copy, (i + STAGES - 1) * BK, stride_wbn, WCOPY)
    async_copy.commit_group()
    acc = warpgroup_mma(w_op, b_slots[SLOT].permute((1, 0)), acc, is_async=True)
    return warpgroup_mma_wait(0, deps=[acc]), s_next, s


@gluon.jit
def _moe_wgmma_kernel(a_ptr, sorted_ptr, counts_ptr, wb_ptr, ws_ptr, b_ptr, route_w_ptr, out_ptr, K, N, E,
                      stride_a, stride_wbe, stride_wbn, stride_wse, stride_wsn, stride_be, stride_out, limit, alpha,
                      UP: gl.constexpr, TOPK: gl.constexpr, BW: gl.constexpr, BT: gl.constexpr, EP: gl.constexpr,
                      STAGES: gl.constexpr, HALF: gl.constexpr, ONE_MUL: gl.constexpr,
                      U_LAYOUT: gl.constexpr, MASK: gl.constexpr):
    """Program (weight row tile, token row tile). UP: h[rows, k_order of the intermediate columns] = SwiGLU(x[tok]
    [:, k_order] @ W1^T + b1); else y[pair, cols] = route weight * (h[rows] @ W2^T + b2). HALF: a row tile holding
    at most BT / 2 rows runs the MMAs BT / 2 wide (half the tensor-core work: at ~32 rows per expert about half
    the experts' tiles). MASK: the activation rows past the expert's are zero-filled rather than read (64-row
    weight tiles read the activations twice as often as 128-row ones)."""
    e, row0, row_end = _tile_rows(counts_ptr, gl.program_id(1), BT, EP)
    if e >= E:
        return
    e64 = e.to(gl.int64)
    wb_ptr += e64 * stride_wbe
    ws_ptr += e64 * stride_wse
    b_ptr += e64 * stride_be
    if HALF and row_end - row0 <= BT // 2:
        _tile(a_ptr, sorted_ptr, wb_ptr, ws_ptr, b_ptr, route_w_ptr, out_ptr, K, N, row0, row_end, stride_a,
              stride_wbn, stride_wsn, stride_out, limit, alpha, UP, TOPK, BW, BT // 2, STAGES, ONE_MUL, U_LAYOUT, MASK)
    else:
        _tile(a_ptr, sorted_ptr, wb_ptr, ws_ptr, b_ptr, route_w_ptr, out_ptr, K, N, row0, row_end, stride_a,
              stride_wbn, stride_wsn, stride_out, limit, alpha, UP, TOPK, BW, BT, STAGES, ONE_MUL, U_LAYOUT, MASK)


@gluon.jit
def _tile(a_ptr, sorted_ptr, wb_ptr, ws_ptr, b_ptr, route_w_ptr, out_ptr, K, N, row0, row_end, stride_a, stride_wbn,
          stride_wsn, stride_out, limit, alpha, UP: gl.constexpr, TOPK: gl.constexpr, BW: gl.constexpr,
          BT: gl.constexpr, STAGES: gl.constexpr, ONE_MUL: gl.constexpr, U_LAYOUT: gl.constexpr,
          MASK: gl.constexpr):
    """One expert's weight rows (program_id(0)) times its token rows row0:row_end (at most BT): main loop and
    epilogue. wb_ptr, ws_ptr, b_ptr point at the expert's weights."""
    ACC: gl.constexpr = gl.NVMMADistributedLayout(version=[3, 0], warps_per_cta=[4, 1], instr_shape=[16, BT, 16])
    A: gl.constexpr = gl.DotOperandLayout(operand_index=0, parent=ACC, k_width=2)
    LOAD: gl.constexpr = gl.BlockedLayout([1, 8], [4, 8], [4, 1], [1, 0])
    SMEM: gl.constexpr = gl.NVMMASharedLayout.get_default_for([BT, BK], gl.bfloat16)
    # the words' copies: 16 bytes (two words) a thread; stored unswizzled: a warp's reads in the fragment's layout
    # are 8 whole rows, 256 contiguous bytes
    WCOPY: gl.constexpr = gl.BlockedLayout([1, 2], [16, 2], [4, 1], [1, 0])
    WSMEM: gl.constexpr = gl.SwizzledSharedLayout(1, 1, 1, order=[1, 0])
    # rows past N (the last tile of H = 2880 at 128 rows) read row N - 1 and are stored nowhere
    n = gl.minimum(_weight_rows(gl.program_id(0), BW, UP, gl.SliceLayout(1, U_LAYOUT)), N - 1)
    n_copy = gl.minimum(_weight_rows(gl.program_id(0), BW, UP, gl.SliceLayout(1, WCOPY)), N - 1)

    rows = row0 + gl.arange(0, BT, layout=gl.SliceLayout(1, LOAD))
    valid = rows < row_end
    rows = gl.where(valid, rows, row0)  # rows past the expert's read its first row (MASK: none), stored nowhere
    if UP:
        a_rows = gl.load(sorted_ptr + rows) // TOPK
    else:
        a_rows = rows
    if MASK:
        a_rows = gl.where(valid, a_rows, -1)
    # the ring's slots as separate buffers, each step's known at compile time: Triton's hazard analysis then sees
    # none between one slot's copies and another's reads, and puts one barrier a step instead of three
    b_slots = ()
    w_slots = ()
    for s in gl.static_range(STAGES):
        b_slots = b_slots + (gl.allocate_shared_memory(gl.bfloat16, [BT, BK], SMEM),)
        w_slots = w_slots + (gl.allocate_shared_memory(gl.uint64, [BW, BK // 16], WSMEM),)
    steps = K // BK
    for s in gl.static_range(STAGES - 1):
        _copy_rows(b_slots[s], a_ptr, a_rows, s * BK, stride_a, LOAD, MASK)
        _copy_words(w_slots[s], wb_ptr, n_copy, s * BK, stride_wbn, WCOPY)
        async_copy.commit_group()
    acc = gl.zeros([BW, BT], gl.float32, ACC)
    # the scales 2 K steps ahead in registers (the words STAGES - 1 ahead in shared memory), each step's next scales
    # loaded into the registers it just freed
    s0 = _scales_a(ws_ptr, n, 0, stride_wsn, U_LAYOUT)
    s1 = _scales_a(ws_ptr, n, BK, stride_wsn, U_LAYOUT)
    for i in range(0, steps - STAGES + 1, STAGES):  # STAGES steps an iteration: each step's slot known
        for k in gl.static_range(STAGES):
            acc, s0, s1 = _k_step(acc, i + k, s0, s1, ws_ptr, n, gl.minimum(i + k + 2, steps - 1) * BK, stride_wsn,
                                  wb_ptr, n_copy, stride_wbn, w_slots, b_slots, a_ptr, a_rows, stride_a, steps, STAGES,
                                  ONE_MUL, A, LOAD, WCOPY, U_LAYOUT, k, MASK)
    tail = steps - steps % STAGES
    for k in gl.static_range(STAGES - 1):  # the last steps % STAGES steps
        if k < steps % STAGES:
            acc, s0, s1 = _k_step(acc, tail + k, s0, s1, ws_ptr, n, gl.minimum(tail + k + 2, steps - 1) * BK,
                                  stride_wsn, wb_ptr, n_copy, stride_wbn, w_slots, b_slots, a_ptr, a_rows, stride_a,
                                  steps, STAGES, ONE_MUL, A, LOAD, WCOPY, U_LAYOUT, k, MASK)
    async_copy.wait_group(0)

    n_acc = _weight_rows(gl.program_id(0), BW, UP, gl.SliceLayout(1, ACC))
    acc += gl.load(b_ptr + n_acc, mask=n_acc < N, other=0.0).to(gl.float32)[:, None]
    if UP:
        # rows 16 j + l (gate) and 16 j + 8 + l (up) -> intermediate column 8 j + l of this tile
        pair = gl.permute(gl.reshape(acc, [BW // 16, 2, 8, BT]), (0, 2, 3, 1))
        gate, up = gl.split(pair)
        h = _swiglu(gate, up, limit, alpha)
        STORE: gl.constexpr = gl.BlockedLayout([1, 1], [4, 8], [1, 4], [0, 1])
        h = gl.convert_layout(gl.reshape(h, [BW // 2, BT]), STORE).to(out_ptr.dtype.element_ty)
        i = gl.program_id(0) * (BW // 2) + gl.arange(0, BW // 2, layout=gl.SliceLayout(1, STORE))
        lo = i % BK  # column i -> its place in the down GEMM's K order (k_order's inverse)
        kpos = (i - lo + ((lo >> 1) & 1) + ((lo >> 4) & 3) * 2 + ((lo >> 2) & 1) * 8 + (lo & 1) * 16
                + ((lo >> 3) & 1) * 32)
        t = row0 + gl.arange(0, BT, layout=gl.SliceLayout(0, STORE))
        gl.store(out_ptr + t[None, :].to(gl.int64) * stride_out + kpos[:, None], h,
                 mask=(t < row_end)[None, :] & (i < N // 2)[:, None])
    else:
        STORE_Y: gl.constexpr = gl.BlockedLayout([8, 1], [8, 4], [1, 4], [0, 1])
        y = gl.convert_layout(acc, STORE_Y)
        t = row0 + gl.arange(0, BT, layout=gl.SliceLayout(0, STORE_Y))
        tmask = t < row_end
        pair_of = gl.load(sorted_ptr + t, mask=tmask, other=0)
        y = y * gl.load(route_w_ptr + pair_of, mask=tmask, other=0.0)[None, :]
        cols = gl.program_id(0) * BW + gl.arange(0, BW, layout=gl.SliceLayout(1, STORE_Y))
        gl.store(out_ptr + pair_of[None, :].to(gl.int64) * stride_out + cols[:, None],
                 y.to(out_ptr.dtype.element_ty), mask=tmask[None, :] & (cols < N)[:, None])


def u_layout(bw: int) -> gl.DistributedLinearLayout:
    """The packed words' layout [bw, BK / 16] for 4 warps: lane = 4 (row % 8) + q, row + 8 a register, warps 16
    rows each, further 64-row tiles registers, the MMA fragment's rows and K lanes."""
    reg = [[8, 0]] + [[64 * 2 ** i, 0] for i in range((bw // 64).bit_length() - 1)]
    return gl.DistributedLinearLayout(reg_bases=reg, lane_bases=[[0, 1], [0, 2], [1, 0], [2, 0], [4, 0]],
                                      warp_bases=[[16, 0], [32, 0]], block_bases=[], shape=[bw, 4])


_ORDERS: dict[tuple[int, torch.device], torch.Tensor] = {}


def _k_order_on(K: int, device: torch.device) -> torch.Tensor:
    """k_order(K) on the device, made once."""
    key = (K, device)
    if key not in _ORDERS:
        _ORDERS[key] = k_order(K, device)
    return _ORDERS[key]


def constexprs(config: dict) -> dict:
    """The kernel's compile-time arguments a config sets (the launch's and the sm_90 compile test's)."""
    return dict(BW=config["BW"], BT=config["BT"], STAGES=config["STAGES"], HALF=config.get("HALF", False),
                MASK=config.get("MASK", False), U_LAYOUT=u_layout(config["BW"]))


def _options(config: dict) -> dict:
    """Compile options of a config: one warpgroup, and its register cap if it has one."""
    return dict(num_warps=4, **({"maxnreg": config["maxnreg"]} if "maxnreg" in config else {}))


def fits(x: torch.Tensor, experts: dict, config: dict) -> bool:
    """Whether these kernels can run this MoE: bf16 on a CUDA GPU of compute capability 9.0, row-major experts
    (their rows copied as 8-byte words, two at a time where 16-byte aligned), K (hidden and intermediate sizes)
    whole 64-column steps, at least STAGES."""
    w1b, w2b = experts["w1_blocks"], experts["w2_blocks"]
    row_major = all(w.dim() == 4 and w.stride(1) % 8 == 0 and w.data_ptr() % 8 == 0 for w in (w1b, w2b))
    steps = all(k % BK_COLUMNS == 0 and k // BK_COLUMNS >= config["STAGES"] for k in (x.shape[1], w1b.shape[1] // 2))
    return (row_major and steps and x.is_cuda and x.dtype == torch.bfloat16
            and capability(x.device) == (9, 0))


def moe_pairs(x: torch.Tensor, weights: torch.Tensor, idx: torch.Tensor, experts: dict, limit: float,
              counts: torch.Tensor, sorted_pairs: torch.Tensor, up: dict, down: dict) -> torch.Tensor:
    """moe_triton.moe_pairs' result y [1, T * k, H] for pairs already grouped by expert (counts, sorted_pairs)."""
    T, H = x.shape
    top_k = idx.shape[1]
    w1b, w1s, w2b, w2s = experts["w1_blocks"], experts["w1_scales"], experts["w2_blocks"], experts["w2_scales"]
    b1, b2 = experts["w1_bias"], experts["w2_bias"]
    E, N1 = w1b.shape[0], w1b.shape[1]
    P = T * top_k
    EP = triton.next_power_of_2(E)
    one_mul = experts.get("max_scale", 255) <= 128
    xk = x[:, _k_order_on(H, x.device)]
    h = torch.empty((P, N1 // 2), dtype=x.dtype, device=x.device)  # columns in the down GEMM's K order
    y = torch.empty((1, P, H), dtype=x.dtype, device=x.device)
    for c, a, wb, ws, b, out, K, N, is_up in ((up, xk, w1b, w1s, b1, h, H, N1, True),
                                              (down, h, w2b, w2s, b2, y[0], N1 // 2, H, False)):
        tiles = min(P, triton.cdiv(P, c["BT"]) + E)
        _moe_wgmma_kernel[(triton.cdiv(N, c["BW"]), tiles)](
            a, sorted_pairs, counts, wb, ws, b, weights, out, K, N, E, a.stride(0), wb.stride(0), wb.stride(1),
            ws.stride(0), ws.stride(1), b.stride(0), out.stride(0), limit, SWIGLU_ALPHA, UP=is_up, TOPK=top_k,
            EP=EP, ONE_MUL=one_mul, **constexprs(c), **_options(c))
    return y

