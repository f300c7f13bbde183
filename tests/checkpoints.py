"""Writes tiny random gpt-oss checkpoints to disk in the exact Hugging Face and `original/` layouts."""

from __future__ import annotations

import json
import os

import torch
from safetensors.torch import save_file

from moechat.engine.checkpoint import _transpose12, hf_targets, original_targets, synthetic_weights
from moechat.engine.config import ModelConfig


def hf_config_dict(cfg: ModelConfig) -> dict:
    d = {
        "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss",
        "num_hidden_layers": cfg.num_layers, "num_local_experts": cfg.num_experts,
        "num_experts_per_tok": cfg.experts_per_token, "experts_per_token": cfg.experts_per_token,
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
        "head_dim": cfg.head_dim, "num_attention_heads": cfg.num_heads,
        "num_key_value_heads": cfg.num_kv_heads, "sliding_window": cfg.sliding_window,
        "layer_types": list(cfg.layer_types), "rope_theta": cfg.rope_theta,
        "rope_scaling": {"rope_type": "yarn", "factor": cfg.rope_factor, "beta_fast": cfg.rope_beta_fast,
                         "beta_slow": cfg.rope_beta_slow, "truncate": cfg.rope_truncate,
                         "original_max_position_embeddings": cfg.original_context},
        "max_position_embeddings": cfg.max_position, "swiglu_limit": cfg.swiglu_limit,
        "rms_norm_eps": cfg.rms_eps, "tie_word_embeddings": False, "attention_bias": True,
        "hidden_act": "silu", "initializer_range": 0.02, "eos_token_id": 200002, "pad_token_id": 199999,
        "torch_dtype": "bfloat16",
    }
    if cfg.experts_mxfp4:
        d["quantization_config"] = {"quant_method": "mxfp4", "modules_to_not_convert": [
            "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}
    return d


def original_config_dict(cfg: ModelConfig) -> dict:
    return {
        "num_hidden_layers": cfg.num_layers, "num_experts": cfg.num_experts, "experts_per_token": cfg.experts_per_token,
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
        "swiglu_limit": cfg.swiglu_limit, "head_dim": cfg.head_dim, "num_attention_heads": cfg.num_heads,
        "num_key_value_heads": cfg.num_kv_heads, "sliding_window": cfg.sliding_window,
        "initial_context_length": cfg.original_context, "rope_theta": cfg.rope_theta,
        "rope_scaling_factor": cfg.rope_factor, "rope_ntk_alpha": cfg.rope_beta_slow, "rope_ntk_beta": cfg.rope_beta_fast,
    }


def _split(cfg: ModelConfig, canon: dict[str, torch.Tensor], targets) -> dict[str, torch.Tensor]:
    """Invert the loader's mapping: canonical tensors -> the layout's source tensors."""
    out = {}
    for t in targets:
        x = canon[t.name]
        if len(t.sources) == 1:
            s = t.sources[0]
            if t.combine is _transpose12:  # dense HF experts are stored [E, in, out]
                x = x.transpose(1, 2)
            out[s.name] = x
        else:
            sizes = [s.shape[0] for s in t.sources]
            for s, part in zip(t.sources, torch.split(x, sizes, dim=0)):
                out[s.name] = part
    return {k: (v if v.dtype == torch.uint8 else v.to(torch.bfloat16)).contiguous() for k, v in out.items()}


def write_checkpoint(directory: str, cfg: ModelConfig, layout: str, seed: int = 0, shards: int = 2) -> None:
    os.makedirs(directory, exist_ok=True)
    canon = synthetic_weights(cfg, torch.device("cpu"), torch.float32, seed)
    if layout == "hf":
        tensors, conf = _split(cfg, canon, hf_targets(cfg)), hf_config_dict(cfg)
    else:
        tensors, conf = _split(cfg, canon, original_targets(cfg)), original_config_dict(cfg)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(conf, f, indent=2)
    names = list(tensors)
    if layout == "hf" and shards > 1:
        per = -(-len(names) // shards)
        weight_map = {}
        for k in range(shards):
            fn = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: tensors[n] for n in names[k * per:(k + 1) * per]}
            save_file(part, os.path.join(directory, fn), metadata={"format": "pt"})
            weight_map.update({n: fn for n in part})
        with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
    else:
        save_file(tensors, os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})
