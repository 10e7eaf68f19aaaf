"""The Task interface, with the content hashes that make a task's numbers comparable."""
from __future__ import annotations

from functools import cached_property
from typing import Sequence

from .hashing import stable_hash
from .records import Family, Generation, Grade, Prompt


class Task:
    """A set of prompts and a grader. Subclasses set the class attributes and define the two methods.

    ``version`` changes whenever prompts or grading change meaning; ``grader_version`` whenever the
    grader alone changes. The hashes are computed from content, so an unnoticed edit still shows.
    """

    name: str
    version: str
    family: Family
    description: str = ""
    grader: str = "none"
    grader_version: str = "1"

    def prompts(self) -> Sequence[Prompt]:
        raise NotImplementedError

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        raise NotImplementedError

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
        return stable_hash([p.content() for p in self.prompt_set])

    @cached_property
    def task_hash(self) -> str:
        """Hash of prompts, references and grader: decides grades and every metric value."""
        return stable_hash(
            {
                "name": self.name,
                "version": self.version,
                "prompts": self.prompts_hash,
                "references": [p.reference for p in self.prompt_set],
                "grader": [self.grader, self.grader_version],
            }
        )

    @property
    def ref(self) -> str:
        """``name@version:hash8``, the task field of every signature."""
        return f"{self.name}@{self.version}:{self.task_hash[:8]}"
