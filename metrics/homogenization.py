"""Homogenization (Padmakumar & He 2023, "Does Writing with Language Models Reduce Content
Diversity?", arXiv 2309.05196; the ``diversity`` package's ``homogenization_score`` with ROUGE-L):
the mean ROUGE-L F1 over all ordered pairs of a prompt's samples. Higher means more alike.

Tokens as ``rouge_score``'s default tokenizer makes them (lower case, every run of characters other
than a-z and 0-9 a separator, no stemming); ROUGE-L F1 = 2PR / (P + R) from the longest common
subsequence (computed bit-parallel here; ``rouge_score`` fills the O(m*n) table), 0 when either side
is empty. Differences from the package: it returns 1.0 when every pair scores 0 (its comment means the
case of identical samples, but the test it makes fires on completely disjoint samples); creval returns
0.0 there. It rounds to 3 decimals; creval does not. Fewer than two samples gives NaN.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from creval.records import GenerationConfig, Generation, Grade, Prompt

from ._lcs import lcs_length, match_masks
from .scope import TextMetric

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    return [t for t in _NON_ALNUM.sub(" ", text.lower()).split() if t]


def homogenization(texts: Sequence[str]) -> float:
    tokens = [rouge_tokens(t) for t in texts]
    if len(tokens) < 2:
        return float("nan")
    masks = [match_masks(t) for t in tokens]
    total = 0.0
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens)):
            a, b = tokens[i], tokens[j]
            if a and b:
                lcs = lcs_length(masks[i], len(a), b)
                if lcs:
                    p, r = lcs / len(b), lcs / len(a)
                    total += 2 * p * r / (p + r)
    pairs = len(tokens) * (len(tokens) - 1) / 2
    return total / pairs


@dataclass
class Homogenization(TextMetric):
    name = "homogenization"
    description = "mean pairwise ROUGE-L F1 between a prompt's samples (higher: more alike)"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["homogenization-rougel"]

    def text_fields(self) -> dict[str, str]:
        return {"tok": "rouge", "stem": "no"}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        return {"homogenization-rougel": homogenization(self.texts(generations, grades))}
