"""Equivalence classes of a prompt's samples, and what they give (NoveltyBench: Zhang et al. 2025,
"NoveltyBench: Evaluating Language Models for Humanlike Diversity", arXiv 2504.05228; semantic
entropy: Farquhar et al. 2024, "Detecting hallucinations in large language models using semantic
entropy", Nature).

Samples are partitioned greedily, in sample order: each joins the first class whose first member it is
equivalent to, else starts a new class (NoveltyBench's procedure). Equivalence, by task family:

* math: the extracted answers agree under math-verify (samples with no answer: identical text);
* code: the same behaviour digest (identical return values of the entry point on the tests, recorded
  by the sandbox; samples whose tests did not all run: identical code);
* writing: cosine similarity of sentence embeddings >= ``threshold`` (NoveltyBench itself uses a
  trained classifier; creval uses embeddings so that it runs offline; the threshold is in the signature).

Statistics: ``distinct-k`` (the number of classes), ``semantic-entropy`` (discrete, nats, over class
frequencies: -sum p ln p), and ``novelty-utility``: NoveltyBench's utility with patience p,
(1 - p) / (1 - p^k) * sum_i p^(i-1) * [sample i starts a class] * quality_i, where quality is the
grade's ``score`` from a writing task's quality scorer (NaN without one). At patience 1 the weight
(1 - p) / (1 - p^k) is 0/0; its limit as p -> 1 is 1/k, so utility is the mean over the k samples of
[starts a class] * quality (every sample weighs the same: a user who never tires).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.metric import CellInfo
from creval.records import Family, Generation, GenerationConfig, Grade, Prompt

from . import _embeddings
from .scope import TextMetric


def partition(n: int, same: Callable[[int, int], bool]) -> list[int]:
    """Class index of each of ``n`` items, greedy in order against each class's first member."""
    firsts: list[int] = []
    labels = []
    for i in range(n):
        for c, first in enumerate(firsts):
            if same(first, i):
                labels.append(c)
                break
        else:
            labels.append(len(firsts))
            firsts.append(i)
    return labels


def semantic_entropy(labels: Sequence[int]) -> float:
    if not labels:
        return float("nan")
    k = len(labels)
    return 0.0 - sum(c / k * math.log(c / k) for c in Counter(labels).values())  # 0.0 -: one class is 0, not -0


def novelty_utility(labels: Sequence[int], quality: Sequence[float], patience: float) -> float:
    k = len(labels)
    seen: set[int] = set()
    total = 0.0
    for i, (label, q) in enumerate(zip(labels, quality)):
        if label not in seen:
            seen.add(label)
            total += patience**i * q
    if patience == 1:
        return total / k  # the limit of (1 - p) / (1 - p^k) as p -> 1
    return (1 - patience) / (1 - patience**k) * total


@dataclass
class Equivalence(TextMetric):
    name = "equivalence"
    description = "NoveltyBench-style classes of equivalent samples: distinct-k, semantic entropy, utility"
    threshold: float = 0.9
    patience: float = 0.8
    model: str = _embeddings.DEFAULT

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.threshold > 1:
            raise CrevalError(f"metric {self.name!r}: threshold={self.threshold} is a cosine, at most 1")
        self._family: Family = "writing"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["distinct-k", "semantic-entropy", "novelty-utility"]

    def fields(self, cell: CellInfo) -> dict[str, str]:
        by = {"math": "answer:math-verify", "code": "behaviour"}.get(cell.family, f"emb:{self.model}>={self.threshold}")
        return {"eq": by, "p": str(self.patience), "scope": self.scope}

    def unavailable(self) -> str | None:
        return None  # writing without embeddings is reported per prompt as NaN

    def _same(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> Callable[[int, int], bool]:
        texts = self.texts(generations, grades)
        if self._family == "math":
            from creval.tasks.answers import answers_match

            def same_answer(i: int, j: int) -> bool:
                a, b = grades[i].answer, grades[j].answer
                if a and b:
                    return a == b or answers_match(a, b)
                return texts[i].strip() == texts[j].strip()

            return same_answer
        if self._family == "code":
            return lambda i, j: grades[i].answer == grades[j].answer if grades[i].answer and grades[j].answer \
                else texts[i].strip() == texts[j].strip()
        vectors = _embeddings.embed(self.model, texts)
        return lambda i, j: float(vectors[i] @ vectors[j]) >= self.threshold

    def begin_cell(self, cell: CellInfo, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> None:
        self._family = cell.family
        if self._family == "writing" and not _embeddings.missing(self.model):
            _embeddings.embed(self.model, [t for _, gens, grades in items for t in self.texts(gens, grades)])

    def classes(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> list[int] | None:
        """The class index of each sample (in the family ``begin_cell`` was given); None for writing
        where embeddings are not installed."""
        if self._family == "writing" and _embeddings.missing(self.model):
            return None
        return partition(len(generations), self._same(prompt, generations, grades))

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        labels = self.classes(prompt, generations, grades)
        if labels is None:
            nan = float("nan")
            return {"distinct-k": nan, "semantic-entropy": nan, "novelty-utility": nan}
        quality = [g.score for g in grades if g.score is not None]
        utility = novelty_utility(labels, quality, self.patience) if labels and len(quality) == len(grades) else float("nan")
        return {"distinct-k": float(len(set(labels))), "semantic-entropy": semantic_entropy(labels),
                "novelty-utility": utility}
