"""Tensor and data parallelism on the CPU (gloo): two ranks give the same greedy tokens as one in every checkpoint
layout, data-parallel getp writes what one process writes, and a rank that dies ends the job with one line naming
it and leaves no process behind. Two-process runs go through the command line, as users start them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch

from moechat.cli import main
from moechat.engine.checkpoint import synthetic_weights
from moechat.engine.config import preset
from moechat.engine.parallel_shard import Shard, canonical_split

PROMPTS = ("4\nThe capital of France is\nGrüße, 日本\n"
           "Once upon a time there was a prompt long enough to fill a few blocks of the cache and slide its window\nA\n")
OPTIONS = ["--device", "cpu", "--dtype", "float32", "--kv-cache-gb", "0.02", "--quiet", "-n", "40"]


def moechat(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "moechat", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def prompts_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("parallel") / "in.txt"
    path.write_text(PROMPTS)
    return str(path)


def one_process(model: str, prompts_file: str, out) -> str:
    assert main(["getp", prompts_file, str(out), "--model", model, *OPTIONS]) == 0
    return out.read_text()


@pytest.mark.parametrize("layout", ["hf-mxfp4", "hf-bf16", "original"])
def test_tensor_parallel_2_gives_the_tokens_of_1(layout, checkpoint_dirs, prompts_file, tmp_path):
    model = checkpoint_dirs[layout]
    r = moechat("getp", prompts_file, str(tmp_path / "tp2.txt"), "--model", model, *OPTIONS, "--tensor-parallel", "2")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "tp2.txt").read_text() == one_process(model, prompts_file, tmp_path / "tp1.txt")


def test_data_parallel_getp_writes_what_one_process_writes(prompts_file, tmp_path):
    r = moechat("getp", prompts_file, str(tmp_path / "dp2.txt"), "--model", "synthetic:tiny", *OPTIONS,
                "--data-parallel", "2")
    assert r.returncode == 0, r.stderr
    assert "requests: 4" in r.stdout
    assert (tmp_path / "dp2.txt").read_text() == one_process("synthetic:tiny", prompts_file, tmp_path / "dp1.txt")


def test_shards_cover_every_tensor_once_and_match_their_config():
    cfg = replace(preset("tiny"), intermediate_size=96)  # 3 groups of 32 features: ranks get 1 and 2
    whole = synthetic_weights(cfg, torch.device("cpu"), torch.float32)
    shards = [Shard(cfg, r, 2) for r in range(2)]
    parts = [synthetic_weights(cfg, torch.device("cpu"), torch.float32, shard=s) for s in shards]
    for name, x in whole.items():
        split = canonical_split(name)
        if split is None:
            assert all(torch.equal(p[name], x) for p in parts), name
        elif split[1] == "rank0":
            assert torch.equal(parts[0][name], x) and not parts[1][name].any(), name
        else:
            dim, part = split
            covered = sorted(r for s in shards for r in s.ranges(part))
            assert [a for a, _ in covered[1:]] == [b for _, b in covered[:-1]], name  # no gap, no overlap
            assert (covered[0][0], covered[-1][1]) == (0, x.shape[dim]), name
    for s, w in zip(shards, parts):
        local = s.local_config()
        assert w["layers.0.qkv_w"].shape[0] == local.qkv_dim
        assert w["layers.0.o_w"].shape[1] == local.num_heads * local.head_dim
        assert w["layers.0.w1_blocks"].shape[1] == 2 * local.intermediate_size
        assert w["layers.0.w2_blocks"].shape[2] * 32 == local.intermediate_size
    assert [s.local_config().intermediate_size for s in shards] == [32, 64]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_dead_rank_ends_the_job_with_one_line_and_no_process_left(tmp_path):
    prompts = tmp_path / "long.txt"
    prompts.write_text("16\n" + "".join(f"Story number {i} begins like this\n" for i in range(16)))
    job = subprocess.Popen([sys.executable, "-m", "moechat", "getp", str(prompts), str(tmp_path / "out.txt"),
                            "--model", "synthetic:tiny", *OPTIONS[:-2], "-n", "4000", "--tensor-parallel", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, rank1 = time.monotonic() + 60, None
        while rank1 is None and time.monotonic() < deadline:
            ranks = [p for p in _children(job.pid) if "spawn_main" in _cmdline(p)]
            rank1 = ranks[0] if ranks else None
            time.sleep(0.1)
        assert rank1 is not None, "rank 1 never started"
        time.sleep(3)  # loaded and generating, most likely; any moment must end the same way
        everything = _children(job.pid)
        os.kill(rank1, signal.SIGKILL)
        out, err = job.communicate(timeout=60)
    finally:
        job.kill()
    assert job.returncode == 1
    assert "moechat: error: tensor-parallel rank 1 failed: killed by SIGKILL" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out.txt").exists()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in everything) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in everything if _alive(p)]
