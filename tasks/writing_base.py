"""What every writing task shares: no correctness grade (many answers are good; the diversity metrics
measure their range), and a slot for a quality scorer.

``scorer`` names a plugin registered under the ``creval.scorers`` entry point (an object with
``score(prompt, generation) -> float`` and a ``name``), e.g. a reward model; its value is stored with
each grade as ``score``. creval ships no scorer yet; naming an unknown one is an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from creval import registry
from creval.records import Generation, Grade, Prompt
from creval.task import Task


@dataclass
class WritingTask(Task):
    family = "writing"
    scorer: str = ""

    @cached_property
    def _scorer(self) -> Any:
        return registry.load("scorers", self.scorer)() if self.scorer else None

    def grader_id(self) -> str:
        """``scorer:NAME``, plus the scorer's own ``id`` where it has one (the judge's model)."""
        if not self.scorer:
            return "none"
        own = getattr(self._scorer, "id", "")
        return f"scorer:{self.scorer}:{own}" if own else f"scorer:{self.scorer}"

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        score = float(self._scorer.score(prompt, generation)) if self._scorer else None
        return Grade(correct=None, status="ungraded", score=score)
