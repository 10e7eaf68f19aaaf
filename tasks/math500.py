"""MATH-500 (``HuggingFaceH4/MATH-500``): the 500-problem subset of the MATH test set (Hendrycks et
al. 2021, arXiv 2103.03874) chosen by Lightman et al. 2023 ("Let's Verify Step by Step"). Columns
``problem``, ``solution``, ``answer``, ``subject``, ``level``, ``unique_id``; the gold is ``answer``
(LaTeX). Zero-shot chat prompt asking for ``\\boxed{}``; graded with math-verify, so equivalent forms
(``\\frac{1}{2}``, ``0.5``, ``1/2``) agree. Offline: ``--tasks math500:data=path/to/test.jsonl``.
"""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Prompt

from .loading import load_rows, require_columns
from .math_base import BOXED_TEMPLATE, MathTask

HUB_ID = "HuggingFaceH4/MATH-500"


@dataclass
class Math500(MathTask):
    name = "math500"
    version = "1"
    description = "MATH-500 (HuggingFaceH4/MATH-500), zero-shot chat, boxed LaTeX answers"
    data: str = ""
    limit: int = 0

    def prompts(self) -> list[Prompt]:
        rows = load_rows(self.data, hub_id=HUB_ID, split="test")
        require_columns(rows, ["problem", "answer"], self.data or HUB_ID)
        rows = rows[: self.limit] if self.limit else rows
        return [
            Prompt(id=str(r.get("unique_id") or f"math500-{i:03d}"), text=BOXED_TEMPLATE.format(question=r["problem"]),
                   reference=str(r["answer"]), meta={"subject": r.get("subject"), "level": r.get("level")})
            for i, r in enumerate(rows)
        ]
