"""The batched sampler: greedy, temperature, top-k, top-p, and per-request reproducibility."""

from __future__ import annotations

import math

import torch

from moechat.engine.sampling import SamplingParams, sample, uniform_noise


def test_greedy_rows_take_the_argmax_beside_sampled_rows():
    logits = torch.randn(3, 50)
    out = sample(logits, [SamplingParams(), SamplingParams(temperature=1.0), SamplingParams()], [1, 2, 3], [0, 0, 0])
    assert out[0] == logits[0].argmax() and out[2] == logits[2].argmax()


def test_draws_follow_the_distribution():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log()[None].repeat(4000, 1)
    got = torch.tensor(sample(logits, [SamplingParams(temperature=1.0)] * 4000, list(range(4000)), [0] * 4000))
    freq = torch.bincount(got, minlength=4).float() / 4000
    assert torch.allclose(freq, probs, atol=0.03), freq


def test_top_k_and_top_p_cut_the_support():
    probs = torch.tensor([0.4, 0.3, 0.2, 0.1])
    logits = probs.log()[None].repeat(2000, 1)
    top_k = set(sample(logits, [SamplingParams(temperature=1.0, top_k=2)] * 2000, list(range(2000)), [0] * 2000))
    assert top_k == {0, 1}
    top_p = set(sample(logits, [SamplingParams(temperature=1.0, top_p=0.65)] * 2000, list(range(2000)), [0] * 2000))
    assert top_p == {0, 1}  # 0.4 < 0.65, 0.4 + 0.3 reaches it: token 2 is cut
    low_temp = sample(logits[:200], [SamplingParams(temperature=0.05)] * 200, list(range(200)), [0] * 200)
    assert set(low_temp) == {0}


def test_a_row_draws_the_same_whatever_the_batch():
    logits = torch.randn(5, 1000)
    p = SamplingParams(temperature=0.9, top_p=0.95, top_k=100)
    alone = sample(logits[2:3], [p], [42], [7])
    batch = sample(logits, [SamplingParams(temperature=1.0)] * 2 + [p] + [SamplingParams()] * 2, [1, 2, 42, 4, 5],
                   [0, 3, 7, 1, 1])
    assert batch[2] == alone[0]
    assert sample(logits[2:3], [p], [42], [8]) != alone or sample(logits[2:3], [p], [43], [7]) != alone


def test_noise_is_uniform_and_in_range():
    u = uniform_noise(torch.tensor([3, 99]), torch.tensor([0, 5]), 100_000)
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 0.005 and abs(u.var().item() - 1 / 12) < 0.002
    assert not math.isclose(u[0, :10].sum().item(), u[1, :10].sum().item())
