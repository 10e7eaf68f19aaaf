"""mini_writing: 20 open-ended writing prompts (stories, poems, naming, dialogue), written for creval
(no external source), bundled so the harness runs offline. No correctness grade: many answers are good;
what matters is their range, measured by the diversity metrics."""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Prompt

from .bundled import read_bundled
from .writing_base import WritingTask


@dataclass
class MiniWriting(WritingTask):
    name = "mini_writing"
    version = "1"
    description = "20 open-ended writing prompts (bundled, offline), no correctness grade"

    def prompts(self) -> list[Prompt]:
        return [
            Prompt(id=row["id"], text=row["prompt"], meta={"category": row["category"]})
            for row in read_bundled("mini_writing.jsonl")
        ]
