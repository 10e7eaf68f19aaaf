"""Self-repetition (Salkar et al. 2022, "Self-Repetition in Abstractive Neural Summarizers", as
standardised by Shaib et al. 2024 and the ``diversity`` package's ``self_repetition_score``): for each
sample, the number of times its distinct N-grams occur in the prompt's other samples, then
log(that + 1), averaged over samples. Higher means more repetition across samples (less diverse).
Whitespace tokens, N = 4 by default, as the package. The package rounds nothing here; values match.
No samples gives NaN.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._ngrams import ngrams
from .scope import TextMetric


def self_repetition(texts: Sequence[str], n: int = 4) -> float:
    if not texts:
        return float("nan")
    per_doc = [set(ngrams(t.split(), n)) for t in texts]
    counts = Counter(g for doc in per_doc for g in doc)
    return sum(math.log(sum(counts[g] for g in doc) - len(doc) + 1) for doc in per_doc) / len(per_doc)


@dataclass
class SelfRepetition(TextMetric):
    name = "self_repetition"
    description = "log(1 + occurrences of a sample's n-grams in the other samples), averaged (Shaib et al.)"
    n: int = 4

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["self-repetition"]

    def text_fields(self) -> dict[str, str]:
        return {"tok": "ws", "n": str(self.n)}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        return {"self-repetition": self_repetition(self.texts(generations, grades), self.n)}
