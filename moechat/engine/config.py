"""ModelConfig: gpt-oss's shape and hyper-parameters, read from either checkpoint layout or a preset."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace

from moechat.errors import MoechatError


@dataclass(frozen=True)
class ModelConfig:
    num_layers: int = 24
    num_experts: int = 32
    experts_per_token: int = 4
    vocab_size: int = 201088
    hidden_size: int = 2880
    intermediate_size: int = 2880
    head_dim: int = 64
    num_heads: int = 64
    num_kv_heads: int = 8
    sliding_window: int = 128
    layer_types: tuple[str, ...] = ()  # "sliding_attention" / "full_attention" per layer
    rope_theta: float = 150000.0
    rope_factor: float = 32.0
    rope_beta_fast: float = 32.0
    rope_beta_slow: float = 1.0
    rope_truncate: bool = False
    original_context: int = 4096
    max_position: int = 131072
    swiglu_limit: float = 7.0
    rms_eps: float = 1e-5
    experts_mxfp4: bool = True  # experts stored as MXFP4 blocks + scales (else dense)
    tie_embeddings: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.layer_types:
            kinds = tuple("sliding_attention" if i % 2 == 0 else "full_attention" for i in range(self.num_layers))
            object.__setattr__(self, "layer_types", kinds)
        if len(self.layer_types) != self.num_layers:
            raise MoechatError(f"config: layer_types has {len(self.layer_types)} entries for {self.num_layers} layers")

    def is_sliding(self, layer: int) -> bool:
        return self.layer_types[layer] == "sliding_attention"

    @property
    def qkv_dim(self) -> int:
        return (self.num_heads + 2 * self.num_kv_heads) * self.head_dim


PRESETS: dict[str, ModelConfig] = {
    "gpt-oss-20b": ModelConfig(num_layers=24, num_experts=32),
    "gpt-oss-120b": ModelConfig(num_layers=36, num_experts=128),
    # Small enough for CPU tests, with every feature of the real model: GQA, sliding and full layers,
    # MXFP4 blocks (dims are multiples of 32), YaRN, the real vocabulary.
    "tiny": ModelConfig(
        num_layers=4, num_experts=8, experts_per_token=4, hidden_size=64, intermediate_size=64,
        head_dim=16, num_heads=4, num_kv_heads=2, sliding_window=8, original_context=64, max_position=4096,
    ),
}


def from_hf_dict(d: dict) -> ModelConfig:
    if d.get("model_type") != "gpt_oss":
        raise MoechatError(f"config.json: model_type is {d.get('model_type')!r}, expected 'gpt_oss'")
    rope = d.get("rope_scaling") or d.get("rope_parameters") or {}
    quant = d.get("quantization_config") or {}
    return ModelConfig(
        num_layers=d["num_hidden_layers"],
        num_experts=d["num_local_experts"],
        experts_per_token=d.get("num_experts_per_tok", d.get("experts_per_token", 4)),
        vocab_size=d["vocab_size"],
        hidden_size=d["hidden_size"],
        intermediate_size=d["intermediate_size"],
        head_dim=d.get("head_dim") or d["hidden_size"] // d["num_attention_heads"],
        num_heads=d["num_attention_heads"],
        num_kv_heads=d["num_key_value_heads"],
        sliding_window=d.get("sliding_window") or 128,
        layer_types=tuple(d.get("layer_types") or ()),
        rope_theta=d.get("rope_theta", rope.get("rope_theta", 150000.0)),
        rope_factor=rope.get("factor", 1.0),
        rope_beta_fast=rope.get("beta_fast", 32.0),
        rope_beta_slow=rope.get("beta_slow", 1.0),
        rope_truncate=rope.get("truncate", True),
        original_context=rope.get("original_max_position_embeddings", d.get("initial_context_length", 4096)),
        max_position=d.get("max_position_embeddings", 131072),
        swiglu_limit=d.get("swiglu_limit", 7.0),
        rms_eps=d.get("rms_norm_eps", 1e-5),
        experts_mxfp4=quant.get("quant_method") == "mxfp4",
        tie_embeddings=bool(d.get("tie_word_embeddings", False)),
    )


def from_original_dict(d: dict) -> ModelConfig:
    n = d["num_hidden_layers"]
    return ModelConfig(
        num_layers=n,
        num_experts=d["num_experts"],
        experts_per_token=d["experts_per_token"],
        vocab_size=d["vocab_size"],
        hidden_size=d["hidden_size"],
        intermediate_size=d["intermediate_size"],
        head_dim=d["head_dim"],
        num_heads=d["num_attention_heads"],
        num_kv_heads=d["num_key_value_heads"],
        sliding_window=d["sliding_window"],
        layer_types=(),  # the original layout alternates: even layers slide
        rope_theta=d["rope_theta"],
        rope_factor=d["rope_scaling_factor"],
        rope_beta_fast=d["rope_ntk_beta"],
        rope_beta_slow=d["rope_ntk_alpha"],
        rope_truncate=False,
        original_context=d["initial_context_length"],
        max_position=int(d["initial_context_length"] * d["rope_scaling_factor"]),
        swiglu_limit=d["swiglu_limit"],
        experts_mxfp4=True,
    )


def load_config(directory: str) -> tuple[ModelConfig, str]:
    """Read config.json in `directory`; return the config and the layout name ("hf" or "original")."""
    path = os.path.join(directory, "config.json")
    try:
        with open(path) as f:
            d = json.load(f)
    except FileNotFoundError:
        raise MoechatError(f"{directory}: no config.json (not a gpt-oss checkpoint directory)") from None
    except (OSError, json.JSONDecodeError) as e:
        raise MoechatError(f"{path}: cannot read: {e}") from None
    try:
        if "num_experts" in d and "experts_per_token" in d:
            return from_original_dict(d), "original"
        return from_hf_dict(d), "hf"
    except KeyError as e:
        raise MoechatError(f"{path}: missing key {e.args[0]!r}") from None


def preset(name: str) -> ModelConfig:
    try:
        return replace(PRESETS[name])
    except KeyError:
        raise MoechatError(f"unknown preset synthetic:{name} (known: {', '.join(PRESETS)})") from None
