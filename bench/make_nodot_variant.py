"""Writes a copy of moe_triton.py whose decode GEMVs keep every load (weights, scales, activation planes, the
cp.async pipeline) but replace the dot PTX with an XOR of its 20 words: the loop's memory side alone, to time
beside the tree with bench/moe_module_ab.py (outputs wrong by design). --no-scales: each step's scales a constant
instead of loaded; --no-planes: the pipelined steps' activation planes made from the weight words instead of
loaded (the masked tail step keeps its loads); --no-pair-planes: the same for the unpipelined loops' broadcast
plane loads (the down GEMV's), their tail included: which of the loop's loads cost the time.
    python3 bench/make_nodot_variant.py .data/nodot_moe_triton.py [--no-scales] [--no-planes] [--no-pair-planes]"""

import argparse
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent / "moechat" / "kernels" / "moe_triton.py"
CALL = "group = tl.inline_asm_elementwise(_FP4_DOT_ASM if DEQ == 3 else _FP4_DOT_F16_ASM,"
CONSTANTS = "_FP4_DOT_CONSTRAINTS = tl.constexpr("
NODOT = ("{\\n.reg .b32 t;\\nxor.b32 t, $1, $2;\\n" + "".join(f"xor.b32 t, t, ${i};\\n" for i in range(3, 21))
         + "cvt.u16.u32 $0, t;\\n}")
SCALES = "other=0)\n        s = _scales(scales_ptr, n, nmask, k0, K, stride_sn, BN, BK, S32, MASK_K)"  # the GEMV's
PLANES = "p0, p1, p2, p3 = _step_planes(a_ptr, k0, BN, BK)"
PAIR_PLANES = """            pairs = _pair_words(a_ptr, j, n)
            p0, p1 = _plane_words(pairs, kmask, MASK_K), _plane_words(pairs + 4, kmask, MASK_K)
            p2, p3 = _plane_words(pairs + 8, kmask, MASK_K), _plane_words(pairs + 12, kmask, MASK_K)"""


def swap(source: str, old: str, new: str) -> str:
    if source.count(old) != 1:
        raise SystemExit(f"not found once in moe_triton.py: {old!r}: update this script")
    return source.replace(old, new)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--no-scales", action="store_true")
    p.add_argument("--no-planes", action="store_true")
    p.add_argument("--no-pair-planes", action="store_true")
    a = p.parse_args()
    source = swap(TREE.read_text(), CALL, "group = tl.inline_asm_elementwise(_NODOT_ASM,")
    source = swap(source, CONSTANTS, f'_NODOT_ASM = tl.constexpr("{NODOT}")\n' + CONSTANTS)
    if a.no_scales:
        source = swap(source, SCALES, "other=0)\n        s = tl.full([BN, BK // 32], 127, tl.uint8)")
    if a.no_planes:
        source = swap(source, PLANES, "p0, p1, p2, p3 = w ^ 1, w ^ 2, w ^ 3, w ^ 4")
    if a.no_pair_planes:
        source = swap(source, PAIR_PLANES, "            p0, p1, p2, p3 = w ^ 1, w ^ 2, w ^ 3, w ^ 4")
    Path(a.out).write_text(source)


if __name__ == "__main__":
    main()
