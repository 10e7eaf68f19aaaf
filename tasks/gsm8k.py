"""GSM8K (Cobbe et al. 2021, "Training Verifiers to Solve Math Word Problems", arXiv 2110.14168):
1,319 grade-school word problems (test split of ``openai/gsm8k``, config ``main``), each answer a worked
solution ending in ``#### N``; the gold answer is N.

Two prompt styles:
* ``gsm8k``: zero-shot chat, final answer asked for in ``\\boxed{}``;
* ``gsm8k_fewshot``: the classic few-shot completion prompt in the "Q: ... A: ... The answer is N."
  format of Wei et al. 2022 (chain-of-thought prompting), with four exemplars written for creval
  (not the paper's eight), stopping at the next "Q:". Numbers are therefore not identical to
  lm-eval's ``gsm8k_cot``; the format and the grading are the same kind.
Offline: ``--tasks gsm8k:data=path/to/test.jsonl`` (the hub's JSON lines file).
"""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Prompt

from .loading import load_rows, require_columns
from .math_base import BOXED_TEMPLATE, MathTask

HUB_ID, CONFIG = "openai/gsm8k", "main"
FEWSHOT = (
    ("A baker makes 4 trays of 9 muffins and sells 30 of them. How many muffins are left?",
     "The baker makes 4 * 9 = 36 muffins. After selling 30, 36 - 30 = 6 are left. The answer is 6."),
    ("Ana walks 3 km each weekday and 5 km each weekend day. How many km does she walk in a week?",
     "On 5 weekdays she walks 5 * 3 = 15 km. On 2 weekend days she walks 2 * 5 = 10 km. "
     "In total she walks 15 + 10 = 25 km. The answer is 25."),
    ("A book costs $12 and a pen costs a quarter of that. How much do 2 books and 3 pens cost?",
     "A pen costs 12 / 4 = 3 dollars. Two books cost 2 * 12 = 24 dollars and three pens cost 3 * 3 = 9 "
     "dollars. Together that is 24 + 9 = 33 dollars. The answer is 33."),
    ("There are 40 seats on a bus. 3/5 of them are taken. How many seats are free?",
     "3/5 of 40 is 40 * 3 / 5 = 24 seats taken. So 40 - 24 = 16 seats are free. The answer is 16."),
)


def gold_answer(solution: str) -> str:
    return solution.split("####")[-1].strip().replace(",", "")


def fewshot_prompt(question: str) -> str:
    shots = "".join(f"Q: {q}\nA: {a}\n\n" for q, a in FEWSHOT)
    return f"{shots}Q: {question}\nA:"


@dataclass
class GSM8K(MathTask):
    name = "gsm8k"
    version = "1"
    description = "GSM8K test (openai/gsm8k), zero-shot chat, boxed answer"
    data: str = ""
    limit: int = 0

    def rows(self) -> list[dict]:
        rows = load_rows(self.data, hub_id=HUB_ID, config=CONFIG, split="test")
        require_columns(rows, ["question", "answer"], self.data or HUB_ID)
        return rows[: self.limit] if self.limit else rows

    def prompts(self) -> list[Prompt]:
        return [Prompt(id=f"gsm8k-{i:04d}", text=BOXED_TEMPLATE.format(question=r["question"]),
                       reference=gold_answer(r["answer"])) for i, r in enumerate(self.rows())]


@dataclass
class GSM8KFewShot(GSM8K):
    name = "gsm8k_fewshot"
    version = "1"
    description = "GSM8K test, 4-shot 'Q: / A: ... The answer is N.' completion prompt"
    stop = ("Q:",)

    def prompts(self) -> list[Prompt]:
        return [Prompt(id=f"gsm8k-{i:04d}", text=fewshot_prompt(r["question"]), style="completion",
                       reference=gold_answer(r["answer"])) for i, r in enumerate(self.rows())]
