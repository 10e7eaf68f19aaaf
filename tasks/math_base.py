"""What every math task shares: a zero-shot prompt asking for ``\\boxed{}``, grading by the extraction
chain of ``answers.extract_answer`` plus math-verify, the rule that extracted the answer recorded."""
from __future__ import annotations

from creval.records import Generation, Grade, Prompt
from creval.task import Task

from .answers import MATH_GRADER, answers_match, extract_answer

BOXED_TEMPLATE = (
    "Solve the problem. Think step by step, then give the final answer as \\boxed{{ANSWER}}.\n\n"
    "Problem: {question}"
)


class MathTask(Task):
    family = "math"

    def grader_id(self) -> str:
        return MATH_GRADER

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        answer, rule = extract_answer(generation.text)
        if answer is None:
            return Grade(correct=False, answer=None, status="no-answer", detail="no answer found")
        return Grade(correct=answers_match(str(prompt.reference), answer), answer=answer, detail=f"rule:{rule}")
