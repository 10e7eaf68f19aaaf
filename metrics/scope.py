"""What text a lexical or semantic metric scores: a declared parameter, named in the signature.

* ``response``: the whole response;
* ``final``: the text after the last reasoning block end (``</think>``; the whole response when it has
  none), so reasoning models are measured on what they answer, not on how they think;
* ``answer``: the answer the task's grader extracted (math); samples without one score as empty text.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.metric import CellInfo, Metric
from creval.records import Generation, Grade

SCOPES = ("response", "final", "answer")
THINK_END = "</think>"


def scoped(generations: Sequence[Generation], grades: Sequence[Grade], scope: str) -> list[str]:
    if scope == "response":
        return [g.text for g in generations]
    if scope == "final":
        return [g.text.rsplit(THINK_END, 1)[-1].strip() if THINK_END in g.text else g.text for g in generations]
    return [gr.answer or "" for gr in grades]


@dataclass
class TextMetric(Metric):
    """A metric over the samples' text; ``scope`` picks which text."""

    scope: str = "response"

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise CrevalError(f"metric {self.name!r}: scope must be one of {', '.join(SCOPES)}, got {self.scope!r}")

    def texts(self, generations: Sequence[Generation], grades: Sequence[Grade]) -> list[str]:
        return scoped(generations, grades, self.scope)

    def fields(self, cell: CellInfo) -> dict[str, str]:
        return {**self.text_fields(), "scope": self.scope}

    def text_fields(self) -> dict[str, str]:
        return {}
