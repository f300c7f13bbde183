"""The engine choices the app remembers (model, device, dtype, KV cache size, tensor parallelism), as JSON under the user
config directory. A value given on the command line wins and is saved for next time."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from moechat.errors import MoechatError
from moechat.files import write_atomic

DEFAULT_MODEL = "openai/gpt-oss-20b"


@dataclass
class EngineChoice:
    model: str = DEFAULT_MODEL
    device: str | None = None  # None: the engine picks (cuda when there is one)
    dtype: str | None = None
    kv_cache_gb: float | None = None
    tensor_parallel: int = 1  # GPUs each layer is split across

    def describe(self) -> str:
        parts = [self.model, self.device or "auto"]
        if self.dtype:
            parts.append(self.dtype)
        if self.kv_cache_gb:
            parts.append(f"kv {self.kv_cache_gb:g} GB")
        if self.tensor_parallel > 1:
            parts.append(f"tp {self.tensor_parallel}")
        return " · ".join(parts)


def config_path() -> Path:
    override = os.environ.get("MOECHAT_CONFIG")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("moechat", appauthor=False)) / "config.json"


def load(path: Path | None = None) -> EngineChoice:
    """The saved choice, or the defaults when there is none or it can't be read."""
    path = path or config_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return EngineChoice()
    if not isinstance(data, dict):
        return EngineChoice()
    engine = data.get("engine", {})
    known = {f.name for f in fields(EngineChoice)}
    choice = EngineChoice(**{k: v for k, v in engine.items() if k in known})
    if not isinstance(choice.model, str) or not choice.model:
        choice.model = DEFAULT_MODEL
    return choice


def resolve(model: str | None, device: str | None, dtype: str | None, kv_cache_gb: float | None,
            path: Path | None = None, tensor_parallel: int | None = None) -> EngineChoice:
    """Command-line values over saved ones over defaults; saves the result when anything was given."""
    path = path or config_path()
    choice = load(path)
    given = {"model": model, "device": device, "dtype": dtype, "kv_cache_gb": kv_cache_gb,
             "tensor_parallel": tensor_parallel}
    changed = False
    for k, v in given.items():
        if v is not None and getattr(choice, k) != v:
            setattr(choice, k, v)
            changed = True
    if changed or not path.exists():
        save(choice, path)
    return choice


def save(choice: EngineChoice, path: Path | None = None) -> None:
    path = path or config_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(str(path), json.dumps({"engine": asdict(choice)}, indent=2) + "\n")
    except (OSError, MoechatError):
        pass  # an unwritable config dir must not stop the app; the choice just isn't remembered
