"""distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural Conversation
Models", arXiv 1510.03055), over the k samples of one prompt, in two variants named apart:

* ``distinct-N``: unique word N-grams / total word N-grams, pooled over the samples (the common
  multi-sample reading; 1.0 when no N-gram repeats);
* ``distinct-N-li``: unique word N-grams / total words, Li et al.'s own normalisation ("divided by the
  total number of generated tokens");
* ``distinct-N-corpus``: across prompts, as Li et al. report it: unique / total N-grams over every
  sample of every prompt of the cell (one value per cell: a model that answers every prompt alike
  scores low here even when each prompt's samples differ).

Tokens are lower-cased whitespace-separated words (signature ``tok:ws|case:lc``); N-grams do not cross
sample boundaries. No N-gram (or no word) at all gives NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._ngrams import ngrams, words
from .scope import TextMetric


def distinct_counts(texts: Sequence[str], n: int) -> tuple[int, int, int]:
    """(unique n-grams, total n-grams, total words), pooled over ``texts``."""
    seen: set[tuple[str, ...]] = set()
    total = tokens = 0
    for text in texts:
        w = words(text, lowercase=True)
        grams = list(ngrams(w, n))
        total += len(grams)
        tokens += len(w)
        seen.update(grams)
    return len(seen), total, tokens


def distinct_n(texts: Sequence[str], n: int) -> float:
    unique, total, _ = distinct_counts(texts, n)
    return unique / total if total else float("nan")


@dataclass
class DistinctN(TextMetric):
    name = "distinct_n"
    version = "2"
    description = "unique / total word n-grams pooled over a prompt's samples, and Li et al.'s per-token variant"
    n: tuple[int, ...] = (1, 2)

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [s for n in self.n for s in (f"distinct-{n}", f"distinct-{n}-li", f"distinct-{n}-corpus")]

    def score_cell(self, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> dict[str, float]:
        texts = [t for _, gens, grades in items for t in self.texts(gens, grades)]
        return {f"distinct-{n}-corpus": distinct_n(texts, n) for n in self.n}

    def text_fields(self) -> dict[str, str]:
        return {"tok": "ws", "case": "lc"}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        out = {}
        for n in self.n:
            unique, total, tokens = distinct_counts(texts, n)
            out[f"distinct-{n}"] = unique / total if total else float("nan")
            out[f"distinct-{n}-li"] = unique / tokens if tokens else float("nan")
        return out
