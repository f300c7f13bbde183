"""moechat bench's measuring method (the numbers themselves come from a GPU run)."""

from types import SimpleNamespace

from moechat.bench import ttft_medians
from moechat.engine.tokenizer import Tokenizer


class RecordingEngine:
    """Answers each generate call with the next of the given times to first token, and keeps the prompts."""

    def __init__(self, ttfts):
        self.ttfts, self.prompts = list(ttfts), []

    def generate(self, prompts, params):
        self.prompts.append(prompts[0])
        return [SimpleNamespace(ttft_s=self.ttfts.pop(0))]


def test_ttft_is_the_median_of_cold_and_cached_shots_on_distinct_prompts():
    engine = RecordingEngine([0.30, 0.10, 0.20, 0.05, 0.90, 0.07])  # cold, cached for each of 3 prompts
    assert ttft_medians(engine, Tokenizer(), 64, shots=3) == (0.30, 0.07)
    cold = engine.prompts[0::2]
    assert engine.prompts[1::2] == cold  # the cached shot repeats its cold prompt
    assert all(len(p) == 64 for p in cold) and len({tuple(p[:16]) for p in cold}) == 3  # distinct first blocks
