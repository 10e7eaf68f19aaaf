"""AIME-style integer-answer problems (answers 0-999), e.g. ``HuggingFaceH4/aime_2024`` (the default:
columns ``id``, ``problem``, ``answer``) or any set with a problem and an integer answer column
(``--tasks aime:data=...:question_field=...:answer_field=...``). Zero-shot chat prompt asking for
``\\boxed{}``; graded with the extraction chain and math-verify against the integer.
"""
from __future__ import annotations

from dataclasses import dataclass

from creval.errors import CrevalError
from creval.records import Prompt

from .loading import load_rows, require_columns
from .math_base import BOXED_TEMPLATE, MathTask

HUB_ID = "HuggingFaceH4/aime_2024"


@dataclass
class AIME(MathTask):
    name = "aime"
    version = "1"
    description = "AIME-style integer answers (default HuggingFaceH4/aime_2024), zero-shot chat, boxed"
    data: str = ""
    split: str = "train"
    question_field: str = "problem"
    answer_field: str = "answer"
    limit: int = 0

    def prompts(self) -> list[Prompt]:
        source = self.data or HUB_ID
        rows = load_rows(self.data, hub_id=HUB_ID, split=self.split)
        require_columns(rows, [self.question_field, self.answer_field], source)
        rows = rows[: self.limit] if self.limit else rows
        prompts = []
        for i, r in enumerate(rows):
            raw = str(r[self.answer_field]).strip()
            if not raw.lstrip("-").isdigit():
                raise CrevalError(f"{source}: row {i}: {self.answer_field}={raw!r} is not an integer answer")
            prompts.append(Prompt(id=str(r.get("id", f"aime-{i:03d}")), reference=str(int(raw)),
                                  text=BOXED_TEMPLATE.format(question=r[self.question_field])))
        return prompts
