"""Compression ratio (Shaib et al. 2024, "Standardizing the Measurement of Text Diversity", arXiv
2403.00553): size of the prompt's samples joined with single spaces, divided by their gzip-compressed
size. Redundant (less diverse) text compresses better, so higher means less diverse.

``convention`` (in the signature):
* ``diversity`` (default): the ``diversity`` package's ``compression_ratio``: UTF-8 bytes of the
  joined text over the size of a gzip file whose content is ``gzip.compress`` of that text (the
  package compresses twice, so ~40 bytes of gzip framing count twice), computed in memory; gzip
  level 9. One difference: the inner gzip header's timestamp is 0 here. The package writes the
  current time there, and since the outer gzip compresses those bytes, its value depends on the wall
  clock (a few prompts in a hundred change from hour to hour); creval's equals the package's with
  the clock at the epoch, at any time (``gz:mtime0`` in the signature);
* ``zlib``: raw DEFLATE (level 9) once, no container: the ratio without framing overhead, which
  otherwise dominates for short texts.
All samples empty gives NaN. The package rounds to 3 decimals; creval does not.
"""
from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.records import Generation, GenerationConfig, Grade, Prompt

from .scope import TextMetric


def _gzip_file_size(payload: bytes) -> int:
    """Size of what ``gzip.GzipFile(path, 'w+').write(payload)`` leaves on disk (its name is in the
    header; its timestamp is pinned for the same bytes at any time, though it never changes the size)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="compressed.gz", mode="wb", fileobj=buffer, mtime=0) as fh:
        fh.write(payload)
    return buffer.tell()


def compression_ratio(texts: Sequence[str], convention: str = "diversity") -> float:
    if not any(texts):
        return float("nan")
    data = " ".join(texts).encode("utf-8")
    if convention == "diversity":
        return len(data) / _gzip_file_size(gzip.compress(data, mtime=0))
    return len(data) / len(zlib.compress(data, 9))


@dataclass
class CompressionRatio(TextMetric):
    name = "compression_ratio"
    version = "2"  # 2: the inner gzip timestamp is 0, not the wall clock
    description = "joined samples' size / gzip size (diversity package convention, or raw zlib)"
    convention: str = "diversity"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.convention not in ("diversity", "zlib"):
            raise CrevalError(f"metric 'compression_ratio': convention must be diversity or zlib, got {self.convention!r}")

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["compression-ratio"]

    def text_fields(self) -> dict[str, str]:
        return {"conv": self.convention, "gz": "mtime0"} if self.convention == "diversity" else {"conv": self.convention}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        return {"compression-ratio": compression_ratio(self.texts(generations, grades), self.convention)}
