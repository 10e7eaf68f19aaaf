"""Schedule recommendation from backward transfer (``creval recommend``), after Omni-Thinker (Li et al.
2025, "Omni-Thinker: Scaling Multi-Task RL in LLMs with Hybrid Reward and Task Scheduling", arXiv
2507.14783): order the training stages by measured transfer, so that the domains that later training
makes forget most are trained last.

The pilot: a sweep whose single-stage schedules each train one domain (a stage name with its task
families) from a common start (each schedule's first checkpoint). For every pilot of domain A and every
task B, per prompt p of B, with B's domain statistic s (pass@1 for math and code, ``diversity`` for
writing, as the leaderboard's backward transfer):

* ``delta[A][B](p)`` = s(end of A's pilot, p) - s(start, p): training A changes B by this much. The
  evidence table reports its mean over prompts with the paired interval and sign-flip p-values of
  ``creval.stats.paired`` (several pilots of one domain, e.g. seeds, are averaged per prompt first).
* The prediction for an order of the domains (a permutation) assumes that training a domain brings
  its own tasks to the level its pilot reached, and that each later stage then moves them by its own
  measured delta (transfer adds; training the domain again is not modelled): for a task B of domain D,
  ``final(B, p) = s(end of D's pilot, p) + sum over the domains A after D of delta[A][B](p)``; a task
  no pilot trains gets ``s(start, p) + sum over all A of delta[A][B](p)``. Each task's prediction is
  the mean over its prompts with the statistics core's interval (Student's t: sums leave the bounds).
* The objective is the mean over tasks of the predicted final mean; every order of up to 8 domains is
  scored. The recommended order maximises it; its margin over every other order is paired per prompt
  (all tasks' prompts pooled, each task's prompts weighted so that tasks weigh alike) and tested. The
  recommended order was picked as the largest of m predictions, so each margin's test is two-sided
  and Bonferroni-adjusted over all m(m-1)/2 pairs of orders (its interval is the matching simultaneous
  one, at level 1 - 0.05 / pairs): a margin is "separated" when that p < 0.05. Without the adjustment
  a one-sided p of the picked order claims a difference that is not there 9% of the time with two
  domains and 38% with three (seeded simulation, tests/test_recommend.py). The recommendation is
  ``separated`` when every other order's margin is.
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from creval.errors import CrevalError
from creval.manifest import load_manifest
from creval.stats import LEVEL, mean_interval, paired
from creval.store import Store
from creval.sweep import placed as placed_cells

from .collect import read_cell

STRUCTURED = ("math", "code")
MAX_DOMAINS = 8


def _mean_map(maps: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per prompt, the mean over the maps of the finite values."""
    out: dict[str, float] = {}
    for p in {p for m in maps for p in m}:
        values = [m[p] for m in maps if p in m and math.isfinite(m[p])]
        if values:
            out[p] = math.fsum(values) / len(values)
    return out


def interval(values: Mapping[str, float]) -> dict[str, Any]:
    mean, low, high, n = mean_interval(list(values.values())).as_tuple()
    return {"mean": mean, "low": low, "high": high, "prompts": n}


def pilot_values(results: Path, manifest_path: Path, diversity: str = "distinct-2") -> tuple[dict[str, tuple[str, ...]], dict[str, str], dict[str, list[tuple[dict, dict]]]]:
    """From a pilot sweep: domain -> families; task -> family; domain -> per pilot schedule, per task,
    (start values, end values) as prompt -> value maps of the task's domain statistic."""
    manifest = load_manifest(manifest_path)
    store = Store(results)
    done = [c for c in placed_cells(manifest) if c.state == "done" and c.key]
    domains: dict[str, tuple[str, ...]] = {}
    families: dict[str, str] = {}
    pilots: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for schedule in manifest.schedules:
        if len(schedule.stages) != 1 or not schedule.domains.get(schedule.stages[0][0]):
            continue  # not a single-domain pilot
        name = schedule.stages[0][0]
        trained = tuple(schedule.domains[name])
        if domains.setdefault(name, trained) != trained:
            raise CrevalError(f"{manifest_path}: stage {name!r} trains {domains[name]} in one schedule and {trained} in another")
        cells = [c for c in done if c.schedule == schedule.name]
        steps = sorted({c.step for c in cells})
        if len(steps) < 2:
            raise CrevalError(f"pilot {schedule.name!r} needs evaluated checkpoints at its start and end (has steps {steps}); "
                              f"run `creval sweep {manifest_path}`")
        start: dict[str, dict[str, float]] = {}
        end: dict[str, dict[str, float]] = {}
        for c in cells:
            if c.step in (steps[0], steps[-1]) and c.key is not None:
                scores = read_cell(store, c.key)
                families[c.task] = scores.family
                stat = "pass@1" if scores.family in STRUCTURED else diversity
                if stat not in scores.values:
                    raise CrevalError(f"cell {c.key} ({c.task}) has no {stat!r}; add its metric to the manifest and sweep again")
                (start if c.step == steps[0] else end)[c.task] = scores.values[stat]
        pilots[name].append((start, end))
    if len(domains) < 2:
        raise CrevalError(f"{manifest_path}: a recommendation needs single-stage pilot schedules of at least two domains "
                          f"(each with one stage naming its families), found {sorted(domains) or 'none'}")
    if len(domains) > MAX_DOMAINS:
        raise CrevalError(f"{len(domains)} domains: at most {MAX_DOMAINS} are ordered (every order is scored)")
    return domains, families, pilots


def recommend(results: Path, manifest_path: Path, *, diversity: str = "distinct-2") -> dict[str, Any]:
    """The recommendation from a pilot sweep's results (see the module's docstring)."""
    report = rank(*pilot_values(results, manifest_path, diversity))
    return {"manifest": str(manifest_path), "statistics": {"structured": "pass@1", "writing": diversity}, **report}


def rank(domains: Mapping[str, tuple[str, ...]], families: Mapping[str, str],
         pilots: Mapping[str, list[tuple[dict, dict]]]) -> dict[str, Any]:
    """Every order of ``domains`` scored from the pilots' per-prompt values (``pilot_values``' shapes).
    A task whose statistic has no value at the start (distinct-2 of one-word answers) is left out of
    the prediction and named under ``excluded``."""
    every = [t for t in sorted(families)]
    defined = {t for t in every if any(math.isfinite(v) for runs in pilots.values() for s, _ in runs
                                       for v in s.get(t, {}).values())}
    excluded = {t: "its statistic has no value at the start of any pilot" for t in every if t not in defined}
    if not defined:
        raise CrevalError("no task's statistic has a value at the pilots' start (for one-word answers, --diversity distinct-1)")
    tasks = [t for t in every if t in defined]
    start = {t: _mean_map([s[t] for runs in pilots.values() for s, _ in runs if t in s]) for t in tasks}
    end = {a: {t: _mean_map([e[t] for _, e in runs if t in e]) for t in tasks} for a, runs in pilots.items()}
    # each pilot against its own start, then averaged over the domain's pilots
    delta = {a: {t: _mean_map([{p: v - s[t][p] for p, v in e[t].items() if p in s[t]} for s, e in runs if t in s and t in e])
                 for t in tasks} for a, runs in pilots.items()}
    evidence: list[dict[str, Any]] = []
    for a, runs in pilots.items():
        own_start = {t: _mean_map([s[t] for s, _ in runs if t in s]) for t in tasks}
        for t in tasks:
            result = paired(own_start[t], end[a][t])
            evidence.append({"trained": a, "task": t, "family": families[t], "trains_task": families[t] in domains[a],
                             "start": result.baseline, "end": result.candidate, "change": result.difference,
                             "low": result.low, "high": result.high, "p_lower": result.p_lower,
                             "p_higher": result.p_higher, "prompts": result.prompts, "testable": result.testable,
                             "reason": result.reason})
    owner = {t: next((d for d in domains if families[t] in domains[d]), None) for t in tasks}

    def predict(order: Sequence[str]) -> dict[str, dict[str, float]]:
        out = {}
        for t in tasks:
            d = owner[t]
            after = order[order.index(d) + 1:] if d else order
            level = dict(end[d][t]) if d else dict(start[t])
            out[t] = {p: v + sum(delta[a][t].get(p, math.nan) for a in after) for p, v in level.items()}
        return out

    orders: list[dict[str, Any]] = []
    for order in itertools.permutations(domains):
        per_task = predict(order)
        summaries = {t: interval(v) for t, v in per_task.items()}
        means = [s["mean"] for s in summaries.values() if math.isfinite(s["mean"])]
        objective = float(np.mean(means)) if means else math.nan
        orders.append({"order": list(order), "objective": objective, "tasks": summaries, "_values": per_task})
    orders.sort(key=lambda o: -o["objective"] if math.isfinite(o["objective"]) else math.inf)
    best = orders[0]
    pairs = len(orders) * (len(orders) - 1) // 2  # the family the recommended order was picked from
    for other in orders[1:]:
        margin = paired(pooled(other["_values"]), pooled(best["_values"]), level=1 - (1 - LEVEL) / max(pairs, 1))
        two_sided = min(1.0, 2 * min(margin.p_lower, margin.p_higher))
        p = min(1.0, two_sided * pairs)
        other["recommended_minus_this"] = {
            "difference": margin.difference, "low": margin.low, "high": margin.high, "p": p, "p_unadjusted": two_sided,
            "separated": margin.testable and p < 1 - LEVEL, "testable": margin.testable, "reason": margin.reason}
    for o in orders:
        del o["_values"]
    unseparated = [o["order"] for o in orders[1:] if not o["recommended_minus_this"]["separated"]]
    vulnerability = {d: float(np.mean([-row["change"] for row in evidence if row["trained"] != d
                                       and owner[row["task"]] == d and math.isfinite(row["change"])] or [math.nan]))
                     for d in domains}
    return {"domains": {d: list(f) for d, f in domains.items()}, "recommended": best["order"], "excluded": excluded,
            "separated": not unseparated, "not_separated_from": unseparated, "pairs_of_orders": pairs, "orders": orders, "evidence": evidence, "forgetting": vulnerability,
            "pilots": {d: len(runs) for d, runs in pilots.items()}}


def pooled(per_task: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """All tasks' prompts in one map (ids prefixed by the task), each scaled by tasks / the task's
    prompts so the pooled mean is the mean over tasks of each task's mean (the objective)."""
    out = {}
    finite = {t: {p: v for p, v in values.items() if math.isfinite(v)} for t, values in per_task.items()}
    total = sum(len(v) for v in finite.values())
    for t, values in finite.items():
        for p, v in values.items():
            out[f"{t}/{p}"] = v * total / (len(finite) * len(values))
    return out
