"""The MoE op of several copies of moe_triton.py side by side in one process (variants kept outside the tree, e.g.
`git show <commit>:moechat/kernels/moe_triton.py > .data/old.py`): whole call in a CUDA graph, 4 layers cycled,
each copy's default tiles (then each --tile, given as JSON: one config for both GEMMs, or a list [up, down]),
and its output's difference from the first copy's.
    PYTHONPATH=$PWD python3 bench/moe_module_ab.py moechat/kernels/moe_triton.py .data/old.py [--sizes 8 256 8192]
        [--tile '{"BM": 64, "BN": 128, "BK": 128, "num_warps": 4, "num_stages": 2}'] [--layout block_rows]
"""

from __future__ import annotations

import argparse
import importlib.util
import json

import torch

from moechat.kernels.bench import HIDDEN, graph_us, random_experts, random_routes, relative_diff


def load(path: str, i: int):
    spec = importlib.util.spec_from_file_location(f"moe_variant_{i}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("modules", nargs="+")
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 64, 256, 1024, 8192])
    p.add_argument("--tile", action="append", default=[], help="tile configs (JSON): {...} or [{up}, {down}]")
    p.add_argument("--layout", choices=("engine", "block_rows", "row-major"), default="engine",
                   help="the experts' layout: this GPU's default (lay_out_experts), or the one named")
    a = p.parse_args()
    modules = [load(m, i) for i, m in enumerate(a.modules)]
    layers = random_experts(4, None if a.layout == "engine" else a.layout == "block_rows")
    for T in a.sizes:
        x = torch.randn(T, HIDDEN, device="cuda", dtype=torch.bfloat16)
        _, _, routes = random_routes(x, layers)
        first = None
        for tile in [None] + [json.loads(t) for t in a.tile]:
            configs = tile and (tuple(tile) if isinstance(tile, list) else (tile, tile))
            for path, mod in zip(a.modules, modules):
                calls = [lambda ex=ex, r=r, mod=mod: mod.moe(x, r[0], r[1], ex, 7.0, configs)
                         for ex, r in zip(layers, routes)]
                try:
                    us = graph_us(calls)
                except Exception as e:  # a tile that does not fit
                    print(f"T={T} {path} {tile}: {type(e).__name__}: {str(e)[:80]}")
                    continue
                out = calls[0]().float()
                first = out if first is None else first
                err = relative_diff(out, first)
                print(f"T={T} {path} {tile or 'default'}: {us:.1f} us, rel. diff {err:.1e}")


if __name__ == "__main__":
    main()
