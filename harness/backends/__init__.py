"""Generation backends. Each module imports its heavy dependencies lazily, inside ``load``."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from ..records import Generation, GenerationConfig, Prompt

Progress = Callable[[int], None]


class Backend(Protocol):
    """Generates ``config.n`` samples for every prompt, in prompt order.

    ``signature(options)`` names everything about the backend that changes generations (it is part of
    the cell key); ``load`` turns a local checkpoint directory into a ready engine.
    """

    name: str
    entropy_kind: str

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str: ...

    @classmethod
    def load(cls, checkpoint: Path, options: Mapping[str, Any]) -> "Backend": ...

    def generate(
        self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None
    ) -> list[list[Generation]]: ...


def sample_seed(run_seed: int, prompt_id: str, sample: int) -> int:
    """The seed of one sample: derived from (run seed, prompt id, sample index), so a sample does not
    depend on which other prompts were generated with it, or in which batch."""
    digest = hashlib.sha256(f"{run_seed}\0{prompt_id}\0{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)
