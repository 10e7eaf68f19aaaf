"""Quality-aware ("effective") diversity: diversity among the samples that pass a quality bar, and the
share that pass (Shypula et al. 2025, "Evaluating the Diversity and Quality of LLM Generated Content",
arXiv 2504.12522: effective semantic diversity; NoveltyBench, Zhang et al. 2025, arXiv 2504.05228:
only distinct outputs of quality count). Raw diversity rewards nonsense: a model that babbles is
maximally diverse; here it scores 0.

A sample's quality is its grade: the grade's ``score`` where the task has a quality scorer (a writing
task's ``scorer``: a reward model or an LLM judge, ``creval.scorers``), else 1 for a correct sample
and 0 for an incorrect one. A sample passes when its quality is >= ``bar`` (on math and code, where
quality is correctness, 0 < bar <= 1; ``similarity``, a cosine, is at most 1). A sample without a
quality (writing without a scorer, a grader error) does not pass; a prompt none of whose samples has
one gives NaN for every statistic. Per prompt, over its k samples:

* ``quality-pass-rate``: the share of the k samples that pass;
* ``effective-distinct-N``: distinct-N (unique / total word N-grams, as ``distinct_n``) pooled over the
  samples that pass; NaN with fewer than two (no diversity among one);
* ``effective-classes``: the number of equivalence classes among the samples that pass, divided by k
  (the distinct good outputs per sample drawn; 0 when none pass). Classes are ``equivalence``'s:
  math answers equal under math-verify, code with the same behaviour digest, writing with sentence
  embeddings at cosine >= ``similarity`` (NaN for writing where embeddings are not installed).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.metric import CellInfo
from creval.records import Generation, GenerationConfig, Grade, Prompt

from . import _embeddings
from .distinct_n import distinct_n
from .equivalence import Equivalence
from .scope import TextMetric


def quality(grade: Grade) -> float:
    """The grade's quality score, else correctness as 1 / 0; NaN when the grade has neither."""
    if grade.score is not None:
        return float(grade.score)
    if grade.correct is None:
        return float("nan")
    return 1.0 if grade.correct else 0.0


def check_bar(metric: str, bar: float, family: str) -> None:
    """On math and code quality is correctness (1 or 0): a bar of 0 would pass wrong samples, above 1 none."""
    if family != "writing" and not 0 < bar <= 1:
        raise CrevalError(f"metric {metric!r}: bar={bar}: on {family} tasks quality is correctness (1 or 0), "
                          "so give 0 < bar <= 1")


@dataclass
class EffectiveDiversity(TextMetric):
    name = "effective_diversity"
    description = "diversity among the samples that pass a quality bar (Shypula et al. 2025), and the share that pass"
    bar: float = 0.5
    n: int = 2
    similarity: float = 0.9
    model: str = _embeddings.DEFAULT

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.similarity > 1:
            raise CrevalError(f"metric {self.name!r}: similarity={self.similarity} is a cosine, at most 1")
        self._classes: Equivalence = Equivalence(threshold=self.similarity, model=self.model, scope=self.scope)

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["quality-pass-rate", f"effective-distinct-{self.n}", "effective-classes"]

    def undefined(self, statistic: str, cell: CellInfo,
                  items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> str:
        if all(math.isnan(quality(g)) for _, _, grades in items for g in grades):
            if cell.family == "writing":
                return "no sample has a quality: give the writing task a scorer (e.g. mini_writing:scorer=judge)"
            return "no sample has a grade"
        return super().undefined(statistic, cell, items)

    def fields(self, cell: CellInfo) -> dict[str, str]:
        by = {"math": "answer:math-verify", "code": "behaviour"}.get(cell.family, f"emb:{self.model}>={self.similarity}")
        return {"q": "grade", "bar": str(self.bar), "tok": "ws", "case": "lc", "eq": by, "scope": self.scope}

    def begin_cell(self, cell: CellInfo, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> None:
        check_bar(self.name, self.bar, cell.family)
        self._classes.begin_cell(cell, items)

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        nan = float("nan")
        names = self.statistics(GenerationConfig())
        scores = [quality(g) for g in grades]
        if not generations or all(math.isnan(q) for q in scores):
            return dict.fromkeys(names, nan)
        kept = [i for i, q in enumerate(scores) if q >= self.bar]
        texts = self.texts(generations, grades)
        out = {names[0]: len(kept) / len(generations),
               names[1]: distinct_n([texts[i] for i in kept], self.n) if len(kept) >= 2 else nan}
        if not kept:
            out[names[2]] = 0.0
        else:
            labels = self._classes.classes(prompt, [generations[i] for i in kept], [grades[i] for i in kept])
            out[names[2]] = len(set(labels)) / len(generations) if labels is not None else nan
        return out
