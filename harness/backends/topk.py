"""Token entropy when a backend returns only the top-K log-probabilities of each step (vLLM, OpenAI-
compatible servers), with bounds on the true full-vocabulary entropy.

With p_1..p_K the top-K probabilities, m = sum p_i and the missing tail mass t = 1 - m spread over the
other V - K tokens, each no more likely than p_min = min p_i:

* estimate (``topk-renorm``): the entropy of the top-K renormalised, -sum (p_i/m) ln(p_i/m);
* lower bound: H_top + t * (-ln p_min), since every tail token has -ln p >= -ln p_min;
* upper bound: H_top + t * ln((V - K) / t), the tail spread uniformly;

where H_top = -sum p_i ln p_i. The exact entropy lies between the bounds; the estimate is within
max(estimate - lower, upper - estimate) of it. With t = 0 all three agree. The entropy kind recorded
with such generations, and named in every token-entropy signature, is ``topk-renorm:K=<K>``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def topk_entropy(logprobs: Sequence[float], vocab_size: int) -> tuple[float, float, float]:
    """(estimate, lower bound, upper bound) in nats from one step's top-K log-probabilities."""
    probs = [p for p in (math.exp(lp) for lp in logprobs) if p > 0]  # tokens outside a nucleus: -inf (or a floor)
    if not probs:
        return float("nan"), float("nan"), float("nan")
    mass = sum(probs)
    tail = max(0.0, 1.0 - mass)
    h_top = -sum(p * math.log(p) for p in probs if p > 0)
    estimate = -sum(p / mass * math.log(p / mass) for p in probs if p > 0)
    if tail <= 1e-12:
        return estimate, h_top, h_top
    rest = max(1, vocab_size - len(probs))
    lower = h_top + tail * -math.log(min(probs))
    upper = h_top + tail * math.log(rest / tail)
    return estimate, lower, max(lower, upper)


def kind(k: int) -> str:
    return f"topk-renorm:K={k}"


_NAMES = {"sampled": ("token_entropy", "entropy_kind", "token_entropy_lo", "token_entropy_hi"),
          "model": ("token_entropy_model", "model_entropy_kind", "token_entropy_model_lo", "token_entropy_model_hi")}


def entropy_fields(tops: Sequence[Sequence[float]], vocab_size: int, k: int,
                   describe: Sequence[str] = ("sampled",)) -> dict[str, Any]:
    """The ``Generation`` fields a top-K backend fills from each step's top-K log-probabilities (most
    likely first): the log-probabilities themselves, and estimates, bounds and kind of the entropies
    they describe (``describe``: "sampled", the distribution drawn from; "model", the full-vocabulary
    softmax(logits / T); both when they are one distribution)."""
    usable = bool(k and tops and all(tops))
    bounds = [topk_entropy(t, vocab_size) for t in tops] if usable else []
    out: dict[str, Any] = {"top_logprobs": tuple(tuple(t) for t in tops) if usable else None}
    for which in describe:
        values, kind_key, lo, hi = _NAMES[which]
        out.update({values: tuple(b[0] for b in bounds) if usable else None, kind_key: kind(k) if usable else "none",
                    lo: tuple(b[1] for b in bounds) if usable else None,
                    hi: tuple(b[2] for b in bounds) if usable else None})
    return out


def greedy_fields(length: int) -> dict[str, Any]:
    """Greedy decoding draws from a point mass: the sampled entropy is exactly 0 at every step."""
    return {"token_entropy": (0.0,) * length, "entropy_kind": "exact", "token_entropy_lo": None, "token_entropy_hi": None}
