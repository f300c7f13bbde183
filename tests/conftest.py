"""Shared fixtures: tiny random gpt-oss checkpoints on disk and the transformers oracle."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from checkpoints import write_checkpoint  # noqa: E402

from moechat.engine.config import preset  # noqa: E402

LAYOUTS = ("hf-mxfp4", "hf-bf16", "original")


@pytest.fixture(scope="session")
def checkpoint_dirs(tmp_path_factory) -> dict[str, str]:
    """The same seeded tiny model written in each layout."""
    base = tmp_path_factory.mktemp("ckpt")
    cfg = preset("tiny")
    dirs = {"hf-mxfp4": str(base / "hf_mxfp4"), "hf-bf16": str(base / "hf_bf16"), "original": str(base / "original")}
    write_checkpoint(dirs["hf-mxfp4"], cfg, "hf")
    write_checkpoint(dirs["hf-bf16"], replace(cfg, experts_mxfp4=False), "hf")
    write_checkpoint(dirs["original"], cfg, "original")
    return dirs
