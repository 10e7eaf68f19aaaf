"""Signature strings: parse, render, and decide from two stored signatures whether their values compare.

A signature is ``statistic|key:value|key:value...`` (values may contain ``:``, never ``|``), e.g.
``pass@1|scope:answer|n:8|est:n-free|T:1.0|top_p:1.0|max:256|stop:none|be:hf|dtype:float32|task:gsm8k@1:3fa2c1d0|v:1``.
Leaderboards read signatures from the store, not Metric objects, so everything a comparability rule
needs is in the string: ``est:n-free`` marks a statistic whose value is an unbiased estimate of a
quantity that does not depend on the number of samples n (pass@k, mean@k, maj@k, G-Pass@k for
k <= n), so two such values compare across n.
"""
from __future__ import annotations

from collections.abc import Iterable

from .hashing import stable_hash
from .records import GenerationConfig, canonical_number

N_FREE = ("est", "n-free")
#: bumped when fields are added to every signature: stored scores are then recomputed (harness/scoring.py)
SIGNATURE_FORMAT = 2  # 2: stop, be, dtype, est


def parse(signature: str) -> tuple[str, list[tuple[str, str]]]:
    """(statistic, [(key, value), ...] in order); a part without ``:`` is a key with an empty value."""
    statistic, *parts = signature.split("|")
    return statistic, [(key, value) for key, _, value in (p.partition(":") for p in parts)]


def render(statistic: str, fields: Iterable[tuple[str, str]]) -> str:
    return "|".join([statistic, *(f"{k}:{v}" for k, v in fields)])


def strip_fields(signature: str, keys: Iterable[str]) -> str:
    """The signature without the named fields."""
    statistic, fields = parse(signature)
    drop = set(keys)
    return render(statistic, [(k, v) for k, v in fields if k not in drop])


def is_n_free(signature: str) -> bool:
    return N_FREE in parse(signature)[1]


def comparable(a: str, b: str) -> tuple[bool, str]:
    """Whether values stored with signatures ``a`` and ``b`` may be compared, and if not, why (the first
    field that differs, e.g. ``"n: 4 vs 8"``). Equal signatures compare; so do two that differ only in
    ``n`` when both declare ``est:n-free``."""
    if a == b:
        return True, ""
    (stat_a, fa), (stat_b, fb) = parse(a), parse(b)
    if stat_a != stat_b:
        return False, f"statistic: {stat_a} vs {stat_b}"
    if N_FREE in fa and N_FREE in fb:
        fa, fb = [f for f in fa if f[0] != "n"], [f for f in fb if f[0] != "n"]
    da, db = dict(fa), dict(fb)
    for key in dict.fromkeys([k for k, _ in fa] + [k for k, _ in fb]):
        va, vb = da.get(key, "(absent)"), db.get(key, "(absent)")
        if va != vb:
            return False, f"{key}: {va} vs {vb}"
    return True, ""


def config_fields(config: GenerationConfig, *, n_free: bool = False) -> list[tuple[str, str]]:
    """The generation config's fields, numbers spelled one way (``canonical_number``), stop strings as
    ``none`` or the hash of the list (they change what is generated: a stop at a space halves responses)."""
    fields = [("n", canonical_number(config.n))]
    if n_free:
        fields.append(N_FREE)
    fields += [("T", canonical_number(config.temperature)), ("top_p", canonical_number(config.top_p)),
               ("max", canonical_number(config.max_new_tokens)),
               ("stop", stable_hash(list(config.stop), 8) if config.stop else "none")]
    return fields


def backend_fields(backend_signature: str) -> list[tuple[str, str]]:
    """``be`` (the backend's name) and ``dtype`` where the backend signature has one, e.g. from
    ``hf/1:dtype=float32:device=cpu``: be:hf, dtype:float32; ``perturb`` (``perturb:0.01:3``) for weights
    under a probe's noise. Nothing for an unknown backend."""
    if not backend_signature:
        return []
    head, _, perturb = backend_signature.partition(":perturb=")  # last, its value holds ':' (creval.perturb)
    name, *options = head.split(":")
    fields = [("be", name.split("/")[0])]
    fields += [("dtype", o.partition("=")[2]) for o in options if o.startswith("dtype=")]
    if perturb:
        fields.append(("perturb", perturb))
    return fields
