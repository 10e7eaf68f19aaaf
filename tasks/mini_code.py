"""mini_code: 16 small Python functions with hidden assert tests, written for creval (no external
source), bundled so the harness runs offline. Code is taken from the last fenced block of the response
(or the whole response) and run with the tests through ``creval.sandbox``."""
from __future__ import annotations

import re

from creval.records import Generation, Grade, Prompt
from creval.sandbox import check_program
from creval.task import Task

from .bundled import read_bundled

TEMPLATE = (
    "Write the Python function below. Reply with the complete function in one ```python code block.\n\n"
    "{signature}\n    \"\"\"{description}\"\"\""
)
_FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)```", re.S)


def extract_code(text: str) -> str:
    blocks = _FENCE.findall(text)
    return blocks[-1] if blocks else text


class MiniCode(Task):
    name = "mini_code"
    version = "1"
    family = "code"
    description = "16 small Python functions (bundled, offline), hidden assert tests"
    grader = "sandbox-asserts"

    def prompts(self) -> list[Prompt]:
        return [
            Prompt(
                id=row["id"],
                text=TEMPLATE.format(signature=row["signature"], description=row["description"]),
                reference={"tests": row["tests"], "entry_point": row["entry_point"]},
                meta={"solution": row["solution"]},
            )
            for row in read_bundled("mini_code.jsonl")
        ]

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        code = extract_code(generation.text)
        tests = "\n".join(f"assert {t}, {t!r}" for t in prompt.reference["tests"])
        result = check_program(code, tests, timeout=5.0)
        status = "graded" if result.status in ("passed", "failed") else result.status
        correct = result.passed if status in ("graded", "timeout") else None
        return Grade(correct=correct, answer=None, status=status, detail=result.stderr_tail[-300:])
