"""distinct-n: the number of unique n-grams divided by the total number of n-grams, pooled over the k
samples of one prompt (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural
Conversation Models", arXiv 1510.03055, as used for multi-sample diversity).

Tokens are lower-cased whitespace-separated words (signature ``tok:ws|case:lc``); n-grams do not
cross sample boundaries. A prompt whose samples hold no n-gram at all reports NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from creval.metric import CellInfo, Metric
from creval.records import GenerationConfig, Generation, Grade, Prompt


def distinct_n(texts: Sequence[str], n: int) -> float:
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        words = text.lower().split()
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else float("nan")


@dataclass
class DistinctN(Metric):
    name = "distinct_n"
    description = "unique / total word n-grams pooled over a prompt's samples (Li et al. 2016)"
    n: tuple[int, ...] = (1, 2)

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [f"distinct-{n}" for n in self.n]

    def fields(self, cell: CellInfo) -> dict[str, str]:
        return {"tok": "ws", "case": "lc"}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = [g.text for g in generations]
        return {f"distinct-{n}": distinct_n(texts, n) for n in self.n}
