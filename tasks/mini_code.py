"""mini_code: 16 small Python functions with hidden assert tests, written for creval (no external
source), bundled so the harness runs offline. Code is taken from the last fenced block of the response
(or the whole response) and run with the tests in the sandbox."""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Generation, Prompt
from creval.sandbox import Job

from .bundled import read_bundled
from .code_base import CodeTask, extract_code

TEMPLATE = (
    "Write the Python function below. Reply with the complete function in one ```python code block.\n\n"
    "{signature}\n    \"\"\"{description}\"\"\""
)


def asserts(tests: list[str]) -> str:
    return "".join(f"assert {t}, {t!r}\n" for t in tests)


@dataclass
class MiniCode(CodeTask):
    name = "mini_code"
    version = "1"
    description = "16 small Python functions (bundled, offline), hidden assert tests"

    def prompts(self) -> list[Prompt]:
        return [
            Prompt(
                id=row["id"],
                text=TEMPLATE.format(signature=row["signature"], description=row["description"]),
                reference={"tests": asserts(row["tests"]), "entry_point": row["entry_point"], "solution": row["solution"]},
            )
            for row in read_bundled("mini_code.jsonl")
        ]

    def job(self, prompt: Prompt, generation: Generation) -> Job:
        ref = prompt.reference
        return Job(extract_code(generation.text), ref["tests"], entry_point=ref["entry_point"], timeout=self.timeout)
