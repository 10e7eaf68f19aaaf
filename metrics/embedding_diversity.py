"""Semantic diversity from sentence embeddings (e.g. Tevet & Berant 2021; Kirkman et al. 2024):

* ``embedding-diversity``: 1 - the mean cosine similarity over all pairs of a prompt's samples
  (0 for identical samples; larger for samples that mean different things);
* ``vendi``: the Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric
  for Machine Learning", arXiv 2210.02410) with the cosine kernel: exp of the Shannon entropy of the
  eigenvalues of K/k, K the k x k cosine-similarity matrix. The "effective number of distinct
  samples": 1 for identical samples, k for mutually orthogonal ones.

Embeddings: see ``_embeddings`` (default all-MiniLM-L6-v2, offline; ``model=`` any
sentence-transformers name). Fewer than two samples gives NaN for the pairwise mean; Vendi is 1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from creval.metric import CellInfo
from creval.records import Generation, GenerationConfig, Grade, Prompt

from . import _embeddings
from .scope import TextMetric


def vendi_score(vectors: np.ndarray) -> float:
    """Vendi score of unit-norm row vectors with the cosine kernel."""
    k = vectors.shape[0]
    if k == 0:
        return float("nan")
    eigenvalues = np.linalg.eigvalsh(vectors @ vectors.T / k)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))


def mean_pairwise_cosine(vectors: np.ndarray) -> float:
    k = vectors.shape[0]
    if k < 2:
        return float("nan")
    sims = vectors @ vectors.T
    return float((sims.sum() - np.trace(sims)) / (k * (k - 1)))


@dataclass
class EmbeddingDiversity(TextMetric):
    name = "embedding_diversity"
    description = "1 - mean pairwise cosine of sentence embeddings, and the Vendi score"
    model: str = _embeddings.DEFAULT

    def unavailable(self) -> str | None:
        return _embeddings.missing(self.model)

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["embedding-diversity", "vendi"]

    def text_fields(self) -> dict[str, str]:
        return {"emb": self.model, "kernel": "cos"}

    def begin_cell(self, cell: CellInfo, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> None:
        _embeddings.embed(self.model, [t for _, gens, grades in items for t in self.texts(gens, grades)])

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        vectors = _embeddings.embed(self.model, self.texts(generations, grades))
        return {"embedding-diversity": 1.0 - mean_pairwise_cosine(vectors), "vendi": vendi_score(vectors)}
