"""Open-ended writing in two forms, each a bundled prompt set written for creval (no external source)
that a user can swap for their own file of prompts (a ``prompt`` column; ``id`` optional):

* ``story_prompts``: 24 WritingPrompts-style premises (after the r/WritingPrompts format of Fan et
  al. 2018, "Hierarchical Neural Story Generation"), each sent as "Write a short story ...";
* ``poetry_prompts``: 20 poetry requests in varied forms (sonnet, villanelle, free verse, ballad ...).

No correctness grade. ``--tasks story_prompts:data=path/to/prompts.jsonl`` loads other premises, e.g.
a local copy of a WritingPrompts test split.
"""
from __future__ import annotations

from dataclasses import dataclass

from creval.records import Prompt

from .bundled import read_bundled
from .loading import load_rows, require_columns
from .writing_base import WritingTask

STORY_TEMPLATE = "Write a short story (at most 300 words) based on this premise:\n\n{prompt}"


@dataclass
class StoryPrompts(WritingTask):
    name = "story_prompts"
    version = "1"
    description = "24 WritingPrompts-style story premises (bundled) or your own file; no correctness grade"
    bundled = "story_prompts.jsonl"
    template = STORY_TEMPLATE
    data: str = ""
    limit: int = 0

    def prompts(self) -> list[Prompt]:
        if self.data:
            rows = load_rows(self.data, hub_id="", split="test")
            require_columns(rows, ["prompt"], self.data)
        else:
            rows = read_bundled(self.bundled)
        rows = rows[: self.limit] if self.limit else rows
        return [Prompt(id=str(r.get("id", f"{self.name}-{i:04d}")), text=self.template.format(prompt=r["prompt"]))
                for i, r in enumerate(rows)]


@dataclass
class PoetryPrompts(StoryPrompts):
    name = "poetry_prompts"
    version = "1"
    description = "20 poetry requests in varied forms (bundled) or your own file; no correctness grade"
    bundled = "poetry_prompts.jsonl"
    template = "{prompt}"
