"""What every code task shares: code extraction, sandboxed execution of the hidden tests on a bounded
pool, and the return-type check against the reference solution.

A passing sample's ``answer`` is its behaviour digest (its return values on the tests, hashed), so
samples that behave alike are equivalent for maj@k and the equivalence-class metrics.

A sample's status is the sandbox's (passed, failed, timeout, memory, sandbox-error) or ``suspicious``:
the tests passed but the entry point returned a type the reference solution never returns (an object
whose ``__eq__`` always answers True passes every ``==`` assert). With ``strict`` (the default)
suspicious samples grade wrong; without, right but still flagged. int and float count as one type
(numbers); everything else must match exactly. A sandbox error (the sandbox itself failed) is no
verdict at all: ``correct`` is None and the sample is left out of pass@k, and counted.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, Grade, Prompt
from creval.sandbox import ExecResult, Job, isolation_level, run_many
from creval.task import Task

_FENCE = re.compile(r"```[ \t]*(?:python|py|Python|python3)?[ \t]*\n(.*?)```", re.S)
_NUMBERS = {"builtins.int": "number", "builtins.float": "number"}


def extract_code(text: str) -> str:
    """The last fenced code block, an unterminated trailing one, or the whole text."""
    blocks = _FENCE.findall(text)
    if blocks:
        return blocks[-1]
    opened = re.search(r"```[ \t]*(?:python|py|Python|python3)?[ \t]*\n(.*)$", text, re.S)
    return opened.group(1) if opened else text


def _kinds(types: Sequence[str]) -> set[str]:
    return {_NUMBERS.get(t, t) for t in types}


@dataclass
class CodeTask(Task):
    """Subclasses define ``prompts`` and ``job``; ``prompt.reference`` holds ``solution`` (the
    reference solution's full source), ``tests`` and ``entry_point``."""

    family = "code"
    strict: bool = True
    timeout: float = 5.0

    def job(self, prompt: Prompt, generation: Generation) -> Job:
        raise NotImplementedError

    def reference_job(self, prompt: Prompt) -> Job:
        ref = prompt.reference
        return Job(ref["solution"], ref["tests"], entry_point=ref.get("entry_point"), timeout=self.timeout)

    def grader_id(self) -> str:
        return f"sandbox/{isolation_level()}/strict={self.strict}/timeout={self.timeout}/types=1/behaviour=1"

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        return self.grade_batch([(prompt, generation)])[0]

    def grade_batch(self, items: Sequence[tuple[Prompt, Generation]]) -> list[Grade]:
        results = run_many([self.job(p, g) for p, g in items])
        need = {p.id: p for (p, _), r in zip(items, results)
                if r.passed and p.reference.get("entry_point") and p.reference.get("solution")}
        reference = self._reference_types(list(need.values()))
        return [self._verdict(r, reference.get(p.id)) for (p, _), r in zip(items, results)]

    def _reference_types(self, prompts: list[Prompt]) -> dict[str, set[str] | None]:
        cache: dict[str, set[str] | None] = self.__dict__.setdefault("_ref_types", {})
        todo = [p for p in prompts if p.id not in cache]
        for p, r in zip(todo, run_many([self.reference_job(p) for p in todo])):
            cache[p.id] = _kinds(r.return_types) if r.passed else None  # a broken reference checks nothing
        return {p.id: cache[p.id] for p in prompts}

    def _verdict(self, result: ExecResult, reference: set[str] | None) -> Grade:
        detail = result.stderr_tail[-500:]
        if result.status == "sandbox-error":
            return Grade(correct=None, status="sandbox-error", detail=detail)
        if not result.passed:
            return Grade(correct=False, status=result.status, detail=detail)
        kinds = _kinds(result.return_types)
        # nothing recorded though the reference returns something: the recording was tampered with
        odd = (kinds - reference or (reference and not kinds and {"nothing recorded"})) if reference is not None else set()
        if odd:
            return Grade(correct=not self.strict, status="suspicious", answer=result.behaviour,
                         detail=f"returned {sorted(odd)}; the reference returns {sorted(reference or ())}")
        return Grade(correct=True, status="passed", answer=result.behaviour)
