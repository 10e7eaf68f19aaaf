"""maj@k (majority voting, self-consistency; Wang et al. 2022, arXiv 2203.11171): among the first k
samples, the final answer given most often; the prompt counts as solved if that answer is correct.

Answers are the ones the task's grader extracted (``Grade.answer``); two answers are the same when
math-verify finds them equivalent (``0.5`` and ``\\frac12`` vote together). Samples without an
answer do not vote, nor do samples whose grading failed (``correct`` is None: no verdict, so a class
they led would have no verdict either; they are left out as pass@k leaves them out). A tie goes to the answer whose first vote came earliest (deterministic). No vote
at all: 0. Math tasks only (code has no comparable answer). Fewer than k samples gives NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._kmetric import KMetric


def majority_correct(grades: Sequence[Grade], same=None) -> bool:
    """Whether the majority answer of ``grades`` is correct; ``same(a, b)`` decides equal answers."""
    from creval.tasks.answers import answers_match

    same = same or (lambda a, b: a == b or answers_match(a, b))
    classes: list[list[Grade]] = []  # in order of first vote
    for g in grades:
        if g.answer is None or g.correct is None:
            continue
        for votes in classes:
            if same(votes[0].answer, g.answer):
                votes.append(g)
                break
        else:
            classes.append([g])
    if not classes:
        return False
    winner = max(classes, key=len)  # max keeps the first of equally long classes: the earliest
    return bool(winner[0].correct)


@dataclass
class MajAtK(KMetric):
    name = "maj_at_k"
    version = "2"  # 2: samples whose grading failed no longer vote
    families = ("math",)
    description = "majority vote over the first k answers (math-verify equivalence), correct or not"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [f"maj@{k}" for k in self.ks(config.n)]

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        return {f"maj@{k}": float(majority_correct(grades[:k])) if len(grades) >= k else float("nan")
                for k in self.ks(len(grades))}
