"""EAD, expectation-adjusted distinct (Liu et al. 2022, "Rethinking and Refining the Distinct Metric",
ACL, arXiv 2202.13587): the number of unique N-grams divided by the number expected if the same number
of N-grams were drawn uniformly from a vocabulary of size V:

    EAD = unique / (V * (1 - ((V - 1) / V) ** C)),   C = total N-grams

which removes distinct-n's bias against long responses. V is recorded in the signature (``V:``);
the default is GPT-2's vocabulary (50,257), and the same V is used for every N, as in the paper's
code. Pooled over a prompt's samples, lower-cased whitespace words; no N-gram gives NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.records import Generation, GenerationConfig, Grade, Prompt

from .distinct_n import distinct_counts
from .scope import TextMetric


def ead(unique: int, total: int, vocab: int) -> float:
    if total == 0:
        return float("nan")
    expected = vocab * (1.0 - ((vocab - 1) / vocab) ** total)
    return unique / expected


@dataclass
class EAD(TextMetric):
    name = "ead"
    description = "expectation-adjusted distinct-n (Liu et al. 2022), vocabulary size in the signature"
    n: tuple[int, ...] = (1, 2)
    vocab: int = 50257

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.vocab < 2:
            raise CrevalError(f"metric 'ead': vocab must be at least 2, got {self.vocab}")

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [f"ead-{n}" for n in self.n]

    def text_fields(self) -> dict[str, str]:
        return {"tok": "ws", "case": "lc", "V": str(self.vocab)}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        out = {}
        for n in self.n:
            unique, total, _ = distinct_counts(texts, n)
            out[f"ead-{n}"] = ead(unique, total, self.vocab)
        return out
