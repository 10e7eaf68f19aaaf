"""mini_math: 22 short arithmetic word problems with numeric answers, written for creval (no external
source), bundled so the harness runs offline. Graded by final-answer extraction plus math-verify."""
from __future__ import annotations

from creval.records import Generation, Grade, Prompt
from creval.task import Task

from .answers import answers_match, extract_answer
from .bundled import read_bundled

TEMPLATE = (
    "Solve the problem. Think step by step, then give the final answer as \\boxed{{N}}.\n\n"
    "Problem: {question}"
)


class MiniMath(Task):
    name = "mini_math"
    version = "1"
    family = "math"
    description = "22 arithmetic word problems (bundled, offline), boxed numeric answers"
    grader = "extract+math-verify"

    def prompts(self) -> list[Prompt]:
        return [
            Prompt(id=row["id"], text=TEMPLATE.format(question=row["question"]), reference=row["answer"])
            for row in read_bundled("mini_math.jsonl")
        ]

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        answer, rule = extract_answer(generation.text)
        if answer is None:
            return Grade(correct=False, answer=None, status="no-answer", detail="no answer found")
        return Grade(correct=answers_match(prompt.reference, answer), answer=answer, detail=f"rule:{rule}")
