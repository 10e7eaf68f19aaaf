"""n-gram diversity score (as in Padmakumar & He 2023, "Does Writing with Language Models Reduce
Content Diversity?", and the ``diversity`` package's ``ngram_diversity_score``): the sum over N = 1..``n``
of unique N-grams / total N-grams, where the prompt's samples are joined with single spaces into one
word sequence (so N-grams do cross sample boundaries, unlike distinct-n). Ranges 0..n; higher is more
diverse. The package splits on single spaces (``str.split(' ')``, so runs of spaces make empty
tokens); creval does the same for identical values. The package rounds to 3 decimals; creval does not.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from .scope import TextMetric


def ngram_diversity(texts: Sequence[str], max_n: int) -> float:
    tokens = " ".join(texts).split(" ")
    score = 0.0
    for n in range(1, max_n + 1):
        total = len(tokens) - n + 1
        if total <= 0:
            return float("nan")
        score += len(set(zip(*(tokens[i:] for i in range(n))))) / total
    return score


@dataclass
class NgramDiversity(TextMetric):
    name = "ngram_diversity"
    description = "sum over N=1..n of unique/total N-grams of the joined samples (diversity package)"
    n: int = 4

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["ngram-diversity"]

    def text_fields(self) -> dict[str, str]:
        return {"tok": "space", "join": "space", "n": str(self.n)}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        return {"ngram-diversity": ngram_diversity(self.texts(generations, grades), self.n)}
