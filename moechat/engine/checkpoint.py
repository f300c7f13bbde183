"""Checkpoint loading: Hugging Face and `original/` safetensors layouts, repo ids, and synthetic presets.

Every layout is mapped onto one set of canonical tensor names (below). Tensors go to the device one at a
time, straight from the memory-mapped file, so host RAM never holds a second copy of the checkpoint.
MXFP4 experts stay packed (uint8 blocks + uint8 scales).

Canonical names: embedding, norm, unembedding, and per layer `layers.{i}.` + attn_norm, qkv_w, qkv_b,
sinks, o_w, o_b, mlp_norm, router_w, router_b, w1_bias, w2_bias, and either w1_blocks, w1_scales,
w2_blocks, w2_scales (MXFP4) or w1 [E, 2I, H], w2 [E, H, I] (dense). w1 rows interleave gate and up.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from typing import Callable

import torch

from moechat.engine.config import ModelConfig, load_config, preset
from moechat.engine.parallel_shard import Shard, Split, canonical_split
from moechat.errors import MoechatError

FLOAT = "float"  # any floating dtype in the file; converted to the compute dtype
U8 = "uint8"


@dataclass
class Source:
    """One tensor as the file names and shapes it."""

    name: str
    shape: tuple[int, ...]
    kind: str  # FLOAT or U8
    split: Split | None = None  # tensor parallelism's cut of this source, where it is not its target's canonical one


@dataclass
class Target:
    """One canonical tensor, built from one or more sources."""

    name: str
    sources: list[Source]
    combine: Callable[[list[torch.Tensor]], torch.Tensor] = lambda ts: ts[0]
    keep_float32: bool = False


def _expert_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    E, H, I = cfg.num_experts, cfg.hidden_size, cfg.intermediate_size
    return {
        "w1_blocks": (E, 2 * I, H // 32, 16), "w1_scales": (E, 2 * I, H // 32), "w1_bias": (E, 2 * I),
        "w2_blocks": (E, H, I // 32, 16), "w2_scales": (E, H, I // 32), "w2_bias": (E, H),
    }


def _transpose12(ts: list[torch.Tensor]) -> torch.Tensor:
    return ts[0].transpose(1, 2).contiguous()


def hf_targets(cfg: ModelConfig) -> list[Target]:
    H, D, V, E = cfg.hidden_size, cfg.head_dim, cfg.vocab_size, cfg.num_experts
    qd, kd = cfg.num_heads * D, cfg.num_kv_heads * D
    ex = _expert_shapes(cfg)
    cat = lambda ts: torch.cat(ts, dim=0)  # noqa: E731
    t = [Target("embedding", [Source("model.embed_tokens.weight", (V, H), FLOAT)])]
    for i in range(cfg.num_layers):
        p, c = f"model.layers.{i}.", f"layers.{i}."
        a = p + "self_attn."
        t += [
            Target(c + "attn_norm", [Source(p + "input_layernorm.weight", (H,), FLOAT)]),
            Target(c + "qkv_w", [Source(a + "q_proj.weight", (qd, H), FLOAT, (0, "q")),
                                 Source(a + "k_proj.weight", (kd, H), FLOAT, (0, "kv")),
                                 Source(a + "v_proj.weight", (kd, H), FLOAT, (0, "kv"))], cat),
            Target(c + "qkv_b", [Source(a + "q_proj.bias", (qd,), FLOAT, (0, "q")), Source(a + "k_proj.bias", (kd,), FLOAT, (0, "kv")),
                                 Source(a + "v_proj.bias", (kd,), FLOAT, (0, "kv"))], cat),
            Target(c + "sinks", [Source(a + "sinks", (cfg.num_heads,), FLOAT)], keep_float32=True),
            Target(c + "o_w", [Source(a + "o_proj.weight", (H, qd), FLOAT)]),
            Target(c + "o_b", [Source(a + "o_proj.bias", (H,), FLOAT)]),
            Target(c + "mlp_norm", [Source(p + "post_attention_layernorm.weight", (H,), FLOAT)]),
            Target(c + "router_w", [Source(p + "mlp.router.weight", (E, H), FLOAT)]),
            Target(c + "router_b", [Source(p + "mlp.router.bias", (E,), FLOAT)]),
        ]
        m = p + "mlp.experts."
        t += [Target(c + "w1_bias", [Source(m + "gate_up_proj_bias", ex["w1_bias"], FLOAT)]),
              Target(c + "w2_bias", [Source(m + "down_proj_bias", ex["w2_bias"], FLOAT)])]
        if cfg.experts_mxfp4:
            t += [Target(c + "w1_blocks", [Source(m + "gate_up_proj_blocks", ex["w1_blocks"], U8)]),
                  Target(c + "w1_scales", [Source(m + "gate_up_proj_scales", ex["w1_scales"], U8)]),
                  Target(c + "w2_blocks", [Source(m + "down_proj_blocks", ex["w2_blocks"], U8)]),
                  Target(c + "w2_scales", [Source(m + "down_proj_scales", ex["w2_scales"], U8)])]
        else:  # HF stores dense experts as [E, in, out]; we keep [E, out, in] like the MXFP4 layout
            I = cfg.intermediate_size
            t += [Target(c + "w1", [Source(m + "gate_up_proj", (E, H, 2 * I), FLOAT, (2, "gate_up"))], _transpose12),
                  Target(c + "w2", [Source(m + "down_proj", (E, I, H), FLOAT, (1, "features"))], _transpose12)]
    t += [Target("norm", [Source("model.norm.weight", (H,), FLOAT)])]
    if not cfg.tie_embeddings:
        t += [Target("unembedding", [Source("lm_head.weight", (V, H), FLOAT)])]
    return t


def original_targets(cfg: ModelConfig) -> list[Target]:
    H, V, E = cfg.hidden_size, cfg.vocab_size, cfg.num_experts
    ex = _expert_shapes(cfg)
    t = [Target("embedding", [Source("embedding.weight", (V, H), FLOAT)])]
    for i in range(cfg.num_layers):
        b, c = f"block.{i}.", f"layers.{i}."
        t += [
            Target(c + "attn_norm", [Source(b + "attn.norm.scale", (H,), FLOAT)]),
            Target(c + "qkv_w", [Source(b + "attn.qkv.weight", (cfg.qkv_dim, H), FLOAT)]),
            Target(c + "qkv_b", [Source(b + "attn.qkv.bias", (cfg.qkv_dim,), FLOAT)]),
            Target(c + "sinks", [Source(b + "attn.sinks", (cfg.num_heads,), FLOAT)], keep_float32=True),
            Target(c + "o_w", [Source(b + "attn.out.weight", (H, cfg.num_heads * cfg.head_dim), FLOAT)]),
            Target(c + "o_b", [Source(b + "attn.out.bias", (H,), FLOAT)]),
            Target(c + "mlp_norm", [Source(b + "mlp.norm.scale", (H,), FLOAT)]),
            Target(c + "router_w", [Source(b + "mlp.gate.weight", (E, H), FLOAT)]),
            Target(c + "router_b", [Source(b + "mlp.gate.bias", (E,), FLOAT)]),
            Target(c + "w1_blocks", [Source(b + "mlp.mlp1_weight.blocks", ex["w1_blocks"], U8)]),
            Target(c + "w1_scales", [Source(b + "mlp.mlp1_weight.scales", ex["w1_scales"], U8)]),
            Target(c + "w1_bias", [Source(b + "mlp.mlp1_bias", ex["w1_bias"], FLOAT)]),
            Target(c + "w2_blocks", [Source(b + "mlp.mlp2_weight.blocks", ex["w2_blocks"], U8)]),
            Target(c + "w2_scales", [Source(b + "mlp.mlp2_weight.scales", ex["w2_scales"], U8)]),
            Target(c + "w2_bias", [Source(b + "mlp.mlp2_bias", ex["w2_bias"], FLOAT)]),
        ]
    t += [Target("norm", [Source("norm.scale", (H,), FLOAT)]),
          Target("unembedding", [Source("unembedding.weight", (V, H), FLOAT)])]
    return t


def _tensor_index(directory: str) -> dict[str, str]:
    """Tensor name -> safetensors file holding it."""
    index_path = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
        return {name: os.path.join(directory, fn) for name, fn in weight_map.items()}
    files = sorted(glob.glob(os.path.join(directory, "*.safetensors")))
    if not files:
        raise MoechatError(f"{directory}: no *.safetensors files")
    from safetensors import safe_open

    index = {}
    for fn in files:
        with safe_open(fn, framework="pt") as f:
            index.update({name: fn for name in f.keys()})
    return index


def _header_info(files: set[str]) -> dict[str, tuple[tuple[int, ...], str]]:
    from safetensors import safe_open

    info = {}
    for fn in files:
        with safe_open(fn, framework="pt") as f:
            for name in f.keys():
                sl = f.get_slice(name)
                info[name] = (tuple(sl.get_shape()), sl.get_dtype())
    return info


def validate(targets: list[Target], info: dict[str, tuple[tuple[int, ...], str]], where: str) -> None:
    """Raise one error naming every missing, extra or mis-shaped tensor."""
    expected = {s.name: s for t in targets for s in t.sources}
    problems = []
    missing = [n for n in expected if n not in info]
    extra = [n for n in info if n not in expected]
    if missing:
        problems.append(f"missing {len(missing)} tensor(s): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if extra:
        problems.append(f"unexpected {len(extra)} tensor(s): {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}")
    for name, s in expected.items():
        if name not in info:
            continue
        shape, dtype = info[name]
        if shape != s.shape:
            problems.append(f"{name} has shape {list(shape)}, expected {list(s.shape)}")
        ok = dtype == "U8" if s.kind == U8 else dtype in ("F32", "F16", "BF16")
        if not ok:
            problems.append(f"{name} has dtype {dtype}, expected {'uint8' if s.kind == U8 else 'a float type'}")
    if problems:
        raise MoechatError(f"{where}: " + "; ".join(problems[:6]))


def load_directory(directory: str, device: torch.device, dtype: torch.dtype,
                   progress: Callable[[int, int], None] | None = None,
                   tp: tuple[int, int] | None = None) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """tp: (rank, ranks) under tensor parallelism: read only this rank's slices; the config is then the rank's."""
    from safetensors import safe_open

    cfg, layout = load_config(directory)
    shard = Shard(cfg, *tp) if tp else None
    targets = hf_targets(cfg) if layout == "hf" else original_targets(cfg)
    index = _tensor_index(directory)
    validate(targets, _header_info(set(index.values())), directory)
    handles = {fn: safe_open(fn, framework="pt", device="cpu") for fn in set(index.values())}
    weights: dict[str, torch.Tensor] = {}
    for n, t in enumerate(targets):
        parts = []
        for s in t.sources:
            f = handles[index[s.name]]
            x = f.get_tensor(s.name) if shard is None else shard.read(f, s.name, s.split or canonical_split(t.name))
            x = x.to(device, non_blocking=False)
            if s.kind == FLOAT:
                x = x.to(torch.float32 if t.keep_float32 else dtype)
            parts.append(x)
        weights[t.name] = t.combine(parts)
        if progress:
            progress(n + 1, len(targets))
    if cfg.tie_embeddings:
        weights["unembedding"] = weights["embedding"]
    return (shard.local_config() if shard else cfg), weights


def synthetic_weights(cfg: ModelConfig, device: torch.device, dtype: torch.dtype, seed: int = 0,
                      progress: Callable[[int, int], None] | None = None,
                      shard: Shard | None = None) -> dict[str, torch.Tensor]:
    """Seeded random weights with a real checkpoint's shapes and formats, built on the device; with a shard,
    every rank draws the same whole layer and keeps its slices.

    Linear weights have std 0.02 and norms are 1, so the residual stream stays O(1) through any depth;
    MXFP4 scales near 2^-7 give the experts the same std (fp4 values have an RMS of about 2.9).
    """
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    H, D, E, I, V = cfg.hidden_size, cfg.head_dim, cfg.num_experts, cfg.intermediate_size, cfg.vocab_size

    def normal(*shape, std=0.02):
        return (torch.randn(*shape, generator=g, device=device, dtype=torch.float32) * std).to(dtype)

    def u8(*shape, low, high):
        return torch.randint(low, high, shape, generator=g, device=device, dtype=torch.uint8)

    w = {"embedding": normal(V, H, std=1.0), "norm": torch.ones(H, device=device, dtype=dtype),
         "unembedding": normal(V, H)}
    ex = _expert_shapes(cfg)
    for i in range(cfg.num_layers):
        c = f"layers.{i}."
        w[c + "attn_norm"] = torch.ones(H, device=device, dtype=dtype)
        w[c + "mlp_norm"] = torch.ones(H, device=device, dtype=dtype)
        w[c + "qkv_w"] = normal(cfg.qkv_dim, H)
        w[c + "qkv_b"] = normal(cfg.qkv_dim)
        w[c + "sinks"] = normal(cfg.num_heads, std=1.0).float()
        w[c + "o_w"] = normal(H, cfg.num_heads * D)
        w[c + "o_b"] = normal(H)
        w[c + "router_w"] = normal(E, H, std=0.1)
        w[c + "router_b"] = normal(E)
        w[c + "w1_bias"] = normal(E, 2 * I)
        w[c + "w2_bias"] = normal(E, H)
        if cfg.experts_mxfp4:
            for k in ("w1", "w2"):
                w[c + k + "_blocks"] = u8(*ex[k + "_blocks"], low=0, high=256)
                w[c + k + "_scales"] = u8(*ex[k + "_scales"], low=119, high=122)
        else:
            w[c + "w1"] = normal(E, 2 * I, H)
            w[c + "w2"] = normal(E, H, I)
        if shard:
            w.update({k: shard.take(k, x) for k, x in w.items() if k.startswith(c)})
        if progress:
            progress(i + 1, cfg.num_layers)
    return w


def _resolve_repo_id(repo_id: str) -> str:
    """A local directory for a Hugging Face repo id: the HF cache, else a download if possible."""
    hf_home = os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface"))
    cache = os.environ.get("HF_HUB_CACHE", os.path.join(hf_home, "hub"))
    snapshots = os.path.join(cache, "models--" + repo_id.replace("/", "--"), "snapshots")
    found = sorted(glob.glob(os.path.join(snapshots, "*", "config.json")), key=os.path.getmtime)
    if found:
        return os.path.dirname(found[-1])
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise MoechatError(f"{repo_id}: not in the Hugging Face cache ({snapshots}) and huggingface_hub is not "
                           f"installed; pass --model /path/to/checkpoint instead") from None
    try:
        return snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors"], ignore_patterns=["original/*", "metal/*"])
    except Exception as e:  # offline, unknown repo, auth: one line
        raise MoechatError(f"{repo_id}: not in the Hugging Face cache ({snapshots}) and download failed "
                           f"({type(e).__name__}); pass --model /path/to/checkpoint instead") from None


def load_model_weights(model: str, device: torch.device, dtype: torch.dtype, seed: int = 0,
                       progress: Callable[[int, int], None] | None = None,
                       tp: tuple[int, int] | None = None) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """`model` is a directory, an HF repo id (owner/name) or synthetic:<preset>. tp: (rank, ranks) under tensor
    parallelism: only this rank's shard is loaded, and the config returned is the shard's (parallel_shard.py)."""
    if model.startswith("synthetic:"):
        cfg = preset(model.split(":", 1)[1])
        shard = Shard(cfg, *tp) if tp else None
        return (shard.local_config() if shard else cfg), synthetic_weights(cfg, device, dtype, seed, progress, shard)
    if os.path.isdir(model):
        return load_directory(model, device, dtype, progress, tp)
    if model.count("/") == 1 and not model.startswith((".", "/")):
        return load_directory(_resolve_repo_id(model), device, dtype, progress, tp)
    raise MoechatError(f"--model {model}: no such directory (expected a checkpoint directory, an HF repo id, "
                       f"or synthetic:tiny|gpt-oss-20b|gpt-oss-120b)")
