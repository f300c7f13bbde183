"""A simulator of the few PTX instructions the MXFP4 inline assembly uses (mov, prmt, shl, shr, and, or,
fma.rn.bf16x2, mul/fma/add.rn.f16x2, add.rn.f16, cvt.rn.f16x2.e4m3x2), vectorized over many inputs with torch: CI
has no GPU, so the assembly that runs on every weight is checked here against the reference dequantization (bit
for bit) and the decode GEMVs' dot products."""

from __future__ import annotations

import re

import torch

MASK32 = 0xFFFFFFFF


def _lanes(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """32 bits (int64 tensor) -> their two 16-bit lanes as float32, read as dtype (bf16 or f16)."""
    halves = torch.stack([x & 0xFFFF, x >> 16], dim=-1).to(torch.int16)  # wraps like the bits
    return halves.view(dtype).float()


def _pack(lanes: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Two float lanes rounded (to nearest even, once) to dtype -> their 32 bits."""
    r = lanes.to(dtype).view(torch.int16).to(torch.int64) & 0xFFFF
    return r[..., 0] | (r[..., 1] << 16)


def _f16(x: torch.Tensor) -> torch.Tensor:
    """16 bits (int64 tensor) -> their value as f16, in float64."""
    return x.to(torch.int16).view(torch.float16).double()


def _e4m3x2(x: torch.Tensor) -> torch.Tensor:
    """cvt.rn.f16x2.e4m3x2: two e4m3 bytes (16 bits) -> f16x2, low byte to the low half (exact)."""
    pair = torch.stack([x & 0xFF, (x >> 8) & 0xFF], dim=-1).to(torch.uint8)
    return _pack(pair.view(torch.float8_e4m3fn).float(), torch.float16)


def _prmt(a: torch.Tensor, b: torch.Tensor, sel: torch.Tensor) -> torch.Tensor:
    """prmt.b32 (default mode): byte i of the result is byte sel[4i:4i+3] of {b, a}, or that byte's sign bit
    replicated where sel's bit 4i+3 is set."""
    source = a | (b << 32)
    out = torch.zeros_like(a)
    for i in range(4):
        s = (sel >> (4 * i)) & 0xF
        byte = (source >> (8 * (s & 7))) & 0xFF
        byte = torch.where((s & 8) != 0, torch.where((byte & 0x80) != 0, 0xFF, 0), byte)
        out |= byte << (8 * i)
    return out


def run(asm: str, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Runs `asm` (Triton inline-asm text: operands $0, $1, ...) on int64 tensors of register bits; returns every
    register written, operands included."""
    regs = {k: v.to(torch.int64) for k, v in inputs.items()}

    def value(operand: str) -> torch.Tensor:
        if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", operand):
            return torch.full_like(next(iter(inputs.values())), int(operand, 0) & MASK32, dtype=torch.int64)
        return regs[operand]

    for statement in re.split(r"[;\n]", asm):
        statement = statement.strip()
        if statement in ("", "{", "}") or statement.startswith(".reg"):  # scopes and declarations
            continue
        op, rest = statement.split(None, 1)
        if rest.startswith("{"):  # mov {lo, hi}, x: a register split into halves
            dests, src = re.fullmatch(r"\{([^}]*)\}\s*,\s*(\S+)", rest).groups()
            lo, hi = (d.strip() for d in dests.split(","))
            bits = {"mov.b64": 32, "mov.b32": 16}[op]
            half = (1 << bits) - 1  # (a 64-bit register's top bit is int64's sign: mask after the shift)
            regs[lo], regs[hi] = value(src) & half, (value(src) >> bits) & half
            continue
        d, *args = (x.strip() for x in rest.split(","))
        a = [value(x) for x in args]
        if op == "mov.b32":
            regs[d] = a[0]
        elif op == "prmt.b32":
            regs[d] = _prmt(*a)
        elif op == "shl.b32":
            regs[d] = (a[0] << a[1]) & MASK32
        elif op == "shr.b32":
            regs[d] = a[0] >> a[1]
        elif op == "and.b32":
            regs[d] = a[0] & a[1]
        elif op == "or.b32":
            regs[d] = a[0] | a[1]
        elif op == "fma.rn.bf16x2":  # a bf16 product is exact in fp32: one rounding, as the fused operation
            regs[d] = _pack(_lanes(a[0], torch.bfloat16) * _lanes(a[1], torch.bfloat16)
                            + _lanes(a[2], torch.bfloat16), torch.bfloat16)
        elif op == "mul.rn.f16x2":  # an f16 product is exact in fp32
            regs[d] = _pack(_lanes(a[0], torch.float16) * _lanes(a[1], torch.float16), torch.float16)
        elif op in ("fma.rn.f16x2", "add.rn.f16x2"):  # one rounding: float64 holds f16 products exactly, and
            # their sums while the terms' magnitudes lie within 2^31 of each other (any test data here)
            lanes = [_lanes(x, torch.float16).double() for x in a]
            exact = lanes[0] * lanes[1] + lanes[2] if op.startswith("fma") else lanes[0] + lanes[1]
            regs[d] = _pack(exact, torch.float16)
        elif op == "add.rn.f16":
            regs[d] = (_f16(a[0]) + _f16(a[1])).to(torch.float16).view(torch.int16).to(torch.int64) & 0xFFFF
        elif op == "cvt.rn.f16x2.e4m3x2":
            regs[d] = _e4m3x2(a[0])
        else:
            raise NotImplementedError(op)
    return regs
