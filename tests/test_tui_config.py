"""The remembered engine choice: command line over saved file over defaults."""

from __future__ import annotations

import json

from moechat.tui import config


def test_defaults_then_saved_then_overridden(tmp_path):
    path = tmp_path / "moechat" / "config.json"
    c = config.resolve(None, None, None, None, path)
    assert c == config.EngineChoice(model="openai/gpt-oss-20b")
    assert path.exists()
    c = config.resolve("synthetic:tiny", "cpu", None, 0.5, path)
    assert json.loads(path.read_text())["engine"] == {"model": "synthetic:tiny", "device": "cpu", "dtype": None,
                                                       "kv_cache_gb": 0.5, "tensor_parallel": 1}
    again = config.resolve(None, None, "float32", None, path)  # saved values come back; a new one is added
    assert again == config.EngineChoice("synthetic:tiny", "cpu", "float32", 0.5)
    assert again.describe() == "synthetic:tiny · cpu · float32 · kv 0.5 GB"
    tp = config.resolve(None, None, None, None, path, tensor_parallel=2)
    assert tp.tensor_parallel == 2 and config.load(path).tensor_parallel == 2 and tp.describe().endswith("tp 2")


def test_unreadable_config_falls_back_to_defaults(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    assert config.load(path) == config.EngineChoice()
    path.write_text(json.dumps({"engine": {"model": "", "bogus": 1}}))
    assert config.load(path).model == config.DEFAULT_MODEL


def test_config_lives_under_the_user_config_dir(monkeypatch):
    monkeypatch.delenv("MOECHAT_CONFIG", raising=False)
    from platformdirs import user_config_dir

    assert str(config.config_path()).startswith(user_config_dir("moechat", appauthor=False))
