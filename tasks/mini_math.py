"""mini_math: 22 short arithmetic word problems with numeric answers, written for creval (no external
source), bundled so the harness runs offline. Graded by final-answer extraction plus math-verify."""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Prompt

from .bundled import read_bundled
from .math_base import BOXED_TEMPLATE, MathTask


@dataclass
class MiniMath(MathTask):
    name = "mini_math"
    version = "1"
    description = "22 arithmetic word problems (bundled, offline), boxed numeric answers"

    def prompts(self) -> list[Prompt]:
        return [
            Prompt(id=row["id"], text=BOXED_TEMPLATE.format(question=row["question"]), reference=row["answer"])
            for row in read_bundled("mini_math.jsonl")
        ]
