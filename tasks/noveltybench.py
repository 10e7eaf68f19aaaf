"""NoveltyBench (Zhang et al. 2025, "NoveltyBench: Evaluating Language Models for Humanlike
Diversity", arXiv 2504.05228): 100 curated open-ended prompts (``yimingzhang/novelty-bench``, split
``curated``; columns ``id``, ``category``, ``prompt``, ``prompt_paraphrases``) whose good answers are
many. Each prompt is sent as is, in chat. No correctness grade; NoveltyBench's own distinct-k and
utility are diversity metrics. Offline: ``--tasks noveltybench:data=path/to/curated.jsonl``.
"""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Prompt

from .loading import load_rows, require_columns
from .writing_base import WritingTask

HUB_ID = "yimingzhang/novelty-bench"


@dataclass
class NoveltyBench(WritingTask):
    name = "noveltybench"
    version = "1"
    description = "NoveltyBench curated prompts (yimingzhang/novelty-bench), no correctness grade"
    data: str = ""
    split: str = "curated"
    limit: int = 0

    def prompts(self) -> list[Prompt]:
        rows = load_rows(self.data, hub_id=HUB_ID, split=self.split)
        require_columns(rows, ["id", "prompt"], self.data or HUB_ID)
        rows = rows[: self.limit] if self.limit else rows
        return [Prompt(id=str(r["id"]), text=r["prompt"], meta={"category": r.get("category")}) for r in rows]
