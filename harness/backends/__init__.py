"""Generation backends. Each module imports its heavy dependencies lazily, inside ``load``."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..records import Generation, GenerationConfig, Prompt

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Source:
    """What a backend generates from: where it is, and a fingerprint that changes whenever it does."""

    location: str
    fingerprint: str


class Backend(Protocol):
    """Generates ``config.n`` samples for every prompt, in prompt order.

    ``resolve`` turns what the user named (``--model``) into a ``Source``; ``signature(options)`` names
    everything about the backend that changes generations or their numbers (part of the cell key);
    ``load`` makes a ready engine from a resolved source. ``defaults`` holds every option the backend
    takes and its default (``--backend-option KEY=VALUE`` sets any of them). Invalid input raises
    ``CrevalError`` before anything is written.
    """

    name: str
    entropy_kind: str
    description: str
    defaults: Mapping[str, Any]

    @classmethod
    def resolve(cls, model: str, options: Mapping[str, Any]) -> Source: ...

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str: ...

    @classmethod
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> Backend: ...

    def generate(
        self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None
    ) -> list[list[Generation]]: ...


def sample_seed(run_seed: int, prompt_id: str, sample: int) -> int:
    """The seed of one sample: derived from (run seed, prompt id, sample index), so a sample does not
    depend on which other prompts were generated with it, or in which batch."""
    digest = hashlib.sha256(f"{run_seed}\0{prompt_id}\0{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def resolve_local(model: str) -> Source:
    """A local checkpoint directory (or a hub id fetched into the cache), fingerprinted by content."""
    from ..checkpoints import fingerprint, resolve_checkpoint

    path = resolve_checkpoint(model)
    return Source(str(path), fingerprint(path))


def location(source: Source | Path | str) -> str:
    return source.location if isinstance(source, Source) else str(source)


def merge_options(backend: str, options: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The backend's defaults overridden by the options given (None means not given); an unknown
    option is an error naming the known ones."""
    from ..errors import CrevalError

    unknown = set(options) - set(defaults)
    if unknown:
        raise CrevalError(f"{backend} backend: unknown options {sorted(unknown)}; known: {sorted(defaults)}")
    return {**defaults, **{k: v for k, v in options.items() if v is not None}}
