"""Per-document metric functions for lm-eval, computed by creval.

`creval lm-eval-tasks PATH` copies this file to ``PATH/utils.py``, which the package's YAML names in
``process_results: !function utils.<function>``."""
from __future__ import annotations

from typing import Any

from creval.metrics.compression_ratio import compression_ratio
from creval.metrics.distinct_n import distinct_n
from creval.metrics.pass_at_k import pass_at_k
from creval.metrics.self_bleu import SelfBLEU
from creval.records import Generation, Prompt
from creval.tasks.mini_math import MiniMath

_BLEU = SelfBLEU()
_MATH = MiniMath()


def _gens(texts: list[str]) -> list[Generation]:
    return [Generation(t, (), (), None, "none", "stop") for t in texts]


def writing_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    samples = list(results[0])
    out = {"distinct_1": distinct_n(samples, 1), "distinct_2": distinct_n(samples, 2),
           "self_bleu": _BLEU.score(Prompt("d", ""), _gens(samples), [])["self-bleu"],
           "compression_ratio": compression_ratio(samples)}
    try:
        from creval.metrics.embedding_diversity import EmbeddingDiversity

        metric = EmbeddingDiversity()
        if metric.unavailable() is None:
            out["embedding_diversity"] = metric.score(Prompt("d", ""), _gens(samples), [])["embedding-diversity"]
    except ImportError:
        pass
    return {k: (0.0 if v != v else v) for k, v in out.items()}


def math_results(doc: dict[str, Any], results: list[Any]) -> dict[str, float]:
    samples = list(results[0])
    prompt = Prompt(doc["id"], doc["question"], reference=doc["answer"])
    correct = sum(bool(_MATH.grade(prompt, g).correct) for g in _gens(samples))
    n = len(samples)
    return {"pass_at_1": pass_at_k(n, correct, 1), f"pass_at_{n}": pass_at_k(n, correct, n),
            "distinct_2": distinct_n(samples, 2) if distinct_n(samples, 2) == distinct_n(samples, 2) else 0.0}
