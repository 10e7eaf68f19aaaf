"""The Task interface, with the content hashes that make a task's numbers comparable.

A task is a dataclass (its fields are its parameters, set by ``name:key=value`` specs) with a name, a
version, a family, a prompt set and a grader. ``version`` changes whenever prompts or grading change
meaning; the hashes are computed from content, so an unnoticed edit still shows.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import ClassVar

from .hashing import stable_hash
from .records import Family, Generation, Grade, Prompt
from .spec_strings import describe


class Task:
    name: ClassVar[str]
    version: ClassVar[str]
    family: ClassVar[Family]
    description: ClassVar[str] = ""
    #: stop strings this task's prompts need (e.g. HumanEval completions end at the next top-level def)
    stop: ClassVar[tuple[str, ...]] = ()

    def prompts(self) -> Sequence[Prompt]:
        raise NotImplementedError

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        raise NotImplementedError

    def grade_batch(self, items: Sequence[tuple[Prompt, Generation]]) -> list[Grade]:
        """Grade many samples; tasks whose grading can run in parallel override this."""
        return [self.grade(p, g) for p, g in items]

    def grader_id(self) -> str:
        """Names the grader and everything that changes its verdicts (part of the task hash)."""
        return "none"

    @property
    def label(self) -> str:
        """The task as a spec: its name and every parameter that differs from the default."""
        return describe(self)

    @cached_property
    def prompt_set(self) -> tuple[Prompt, ...]:
        prompts = tuple(self.prompts())
        ids = [p.id for p in prompts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"task {self.name}: prompt ids are not unique")
        return prompts

    @cached_property
    def prompts_hash(self) -> str:
        """Hash of what the model sees: decides the generations, and so the cell key."""
        return stable_hash({"prompts": [p.content() for p in self.prompt_set], "stop": list(self.stop)})

    @cached_property
    def task_hash(self) -> str:
        """Hash of prompts, references and grader: decides grades and every metric value."""
        return stable_hash(
            {
                "name": self.name,
                "version": self.version,
                "prompts": self.prompts_hash,
                "references": [p.reference for p in self.prompt_set],
                "grader": self.grader_id(),
            }
        )

    @property
    def ref(self) -> str:
        """``name@version:hash8``, the task field of every signature."""
        return f"{self.name}@{self.version}:{self.task_hash[:8]}"
