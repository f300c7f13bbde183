"""Writes a copy of moe_triton.py whose decode GEMVs keep every load (weights, scales, activation planes, the
cp.async pipeline) but replace the dot PTX with an XOR of its 20 words: the loop's memory side alone, to time
beside the tree with bench/moe_module_ab.py (outputs wrong by design).
    python3 bench/make_nodot_variant.py .data/nodot_moe_triton.py"""

import sys
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent / "moechat" / "kernels" / "moe_triton.py"
CALL = "group = tl.inline_asm_elementwise(_FP4_DOT_ASM if DEQ == 3 else _FP4_DOT_F16_ASM,"
CONSTANTS = "_FP4_DOT_CONSTRAINTS = tl.constexpr("
NODOT = ("{\\n.reg .b32 t;\\nxor.b32 t, $1, $2;\\n" + "".join(f"xor.b32 t, t, ${i};\\n" for i in range(3, 21))
         + "cvt.u16.u32 $0, t;\\n}")


def main() -> None:
    source = TREE.read_text()
    if source.count(CALL) != 1 or source.count(CONSTANTS) != 1:
        raise SystemExit("the dot PTX call is not where this script expects it: update CALL and CONSTANTS")
    source = source.replace(CALL, "group = tl.inline_asm_elementwise(_NODOT_ASM,")
    Path(sys.argv[1]).write_text(source.replace(CONSTANTS, f'_NODOT_ASM = tl.constexpr("{NODOT}")\n' + CONSTANTS))


if __name__ == "__main__":
    main()
