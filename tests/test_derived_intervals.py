"""Intervals of the derived landing columns (BWT, creativity retention): hand-computed on tiny inputs,
and their coverage on simulated schedules with a known true value."""
from __future__ import annotations

import numpy as np
import pytest

from creval.leaderboards.analysis import Stage, backward_transfer
from creval.leaderboards.derived import bwt_interval, retention_interval
from creval.stats import CELL, CELL_LEVEL, bootstrap_interval, ratio_interval

FAMILIES = {"math": ["m"], "code": ["c"], "writing": ["w"]}


def _values(table: dict[str, dict[int, list[float]]]):
    """(task, step) -> prompt id -> value, from task -> step -> values (prompt i is "p{i}")."""
    def at(task: str, step: int):
        vals = table.get(task, {}).get(step)
        return None if vals is None else {f"p{i}": v for i, v in enumerate(vals)}
    return at


def _bwt(stages, table, **kw):
    """BWT as the leaderboard computes it (R: a family's mean over prompts of its one task), and its interval."""
    at = _values(table)
    task = {f: ts[0] for f, ts in FAMILIES.items()}
    bwt = backward_transfer(stages, lambda f, st: float(np.nanmean(list(at(task[f], st).values()))))
    return bwt, bwt_interval(bwt, FAMILIES, at, **kw)


def test_bwt_on_one_task_is_the_t_interval_of_the_per_prompt_change():
    # one term (math: step 100 -> 200); per-prompt changes -1, 0, 0, -1: mean -0.5, sd sqrt(1/3)
    stages = [Stage("s", ("math",), 100), Stage("c", ("writing",), 200)]
    bwt, iv = _bwt(stages, {"m": {100: [1, 0, 1, 1], 200: [0, 0, 1, 0]}})
    half = 3.182446305 * (1 / 3) ** 0.5 / 2  # t(0.975, 3 df) * sd / sqrt(4)
    assert bwt["value"] == pytest.approx(-0.5) and iv.mean == pytest.approx(-0.5) and iv.method == "t"
    assert (iv.low, iv.high, iv.n) == (pytest.approx(-0.5 - half), pytest.approx(-0.5 + half), 4)


def test_bwt_over_two_tasks_is_the_stratified_paired_bootstrap():
    # math changes -1, 0 (its resampled mean: -1, -0.5, 0 with chance 1/4, 1/2, 1/4); code changes 1, 1
    stages = [Stage("a", ("math", "code"), 100), Stage("b", ("writing",), 200)]
    bwt, iv = _bwt(stages, {"m": {100: [1, 1], 200: [0, 1]}, "c": {100: [0, 0], 200: [1, 1]}})
    assert bwt["value"] == pytest.approx(0.25) and iv.mean == pytest.approx(0.25)
    assert (iv.low, iv.high, iv.n, iv.method) == (0.0, 0.5, 4, "bootstrap")
    # the same seed, the same interval; a prompt without a value at one step leaves the t interval's case
    assert bwt_interval(bwt, FAMILIES, _values({"m": {100: [1, 1], 200: [0, 1]}, "c": {100: [0, 0], 200: [1, 1]}})) == iv
    _, one = _bwt(stages[:1] + [Stage("b", ("writing",), 200)], {"m": {100: [1, 1, 0], 200: [0, 1, float("nan")]},
                                                                  "c": {100: [0, 0], 200: [1, 1]}})
    assert one.method == "bootstrap"


def test_derived_intervals_say_why_there_is_none():
    stages = [Stage("s", ("math",), 100), Stage("c", ("writing",), 200)]
    at = _values({"m": {100: [1, 0]}})  # no cell at step 200
    bwt = {"terms": [{"family": "math", "end": 100, "final": 200, "change": 0.5}]}
    assert bwt_interval(bwt, FAMILIES, at).method.startswith("m has no values at step 200")
    cell_level = {100: {CELL: 0.5}, 200: {CELL: 0.4}}
    assert bwt_interval(bwt, FAMILIES, lambda t, s: cell_level[s]).method == CELL_LEVEL
    assert bwt_interval({"terms": []}, FAMILIES, at).method == "no term: no interval"
    assert _bwt(stages, {"m": {100: [1, 1], 200: [0, 0]}})[1].method == "no variation: no interval"
    assert np.isnan(ratio_interval([1.0], [2.0]).low)  # one prompt
    # a denominator that resamples to 0 on more than 1% of the resamples: no interval
    assert ratio_interval([1, 1, 1], [0, 0, 3]).method.startswith("undefined on")


def test_retention_is_the_paired_bootstrap_of_a_ratio_of_means():
    # prompts (end, start) = (1, 2), (3, 2): resampled ratios 0.5, 1.0, 1.5 with chance 1/4, 1/2, 1/4
    iv = retention_interval(_values({"w": {0: [2, 2], 200: [1, 3]}}), "w", 0, 200)
    assert (iv.mean, iv.low, iv.high, iv.n, iv.method) == (1.0, 0.5, 1.5, 2, "bootstrap")
    # NaN (a prompt the statistic is undefined on) is left out of that step's mean, the pairing is kept
    iv = ratio_interval([1.0, float("nan"), 3.0], [2.0, 4.0, 2.0])
    assert iv.mean == pytest.approx(2.0 / (8 / 3))


def test_bootstrap_interval_is_seeded_and_resamples_rows_together():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    x[:, 1] = x[:, 0] + 0.01 * rng.normal(size=30)  # two columns nearly equal per prompt

    def diff(g):
        return np.nanmean(g[0][..., 1] - g[0][..., 0], axis=1)

    iv = bootstrap_interval(diff, [x], seed=3)
    assert iv == bootstrap_interval(diff, [x], seed=3) and iv.high - iv.low < 0.02  # paired: narrow
    assert iv.low < iv.mean < iv.high


def test_coverage_on_simulated_schedules():
    """400 simulated schedules, 30 prompts: the share of intervals holding the true value is near 95%
    (1,000 resamples instead of 2,000, for time: the percentile interval's coverage does not hinge on it)."""
    rng = np.random.default_rng(2026)
    sims, prompts = 400, 30
    # BWT on one task (t): per-prompt difficulty p ~ Beta(2, 3); pass@1 over 8 samples, at the stage end with
    # chance p, at the end of training 0.8 p: true BWT = -0.2 E[p] = -0.08
    p = rng.beta(2, 3, size=(sims, prompts))
    end, final = rng.binomial(8, p) / 8, rng.binomial(8, 0.8 * p) / 8
    # BWT on two tasks (bootstrap): math as above, code with Bernoulli values at chance 0.5 -> 0.6: true -0.04 + 0.1
    c_end, c_final = rng.binomial(1, 0.5, size=(sims, prompts)), rng.binomial(1, 0.6, size=(sims, prompts))
    # retention (bootstrap): diversity at the start ~ Beta(6, 4), at the end that times Beta(7, 3): true 0.7
    start = rng.beta(6, 4, size=(sims, prompts))
    last = start * rng.beta(7, 3, size=(sims, prompts))
    one = [Stage("s", ("math",), 100), Stage("c", ("writing",), 200)]
    two = [Stage("s", ("math", "code"), 100), Stage("c", ("writing",), 200)]
    hits = {"t": 0, "bootstrap": 0, "retention": 0}
    for i in range(sims):
        _, iv = _bwt(one, {"m": {100: list(end[i]), 200: list(final[i])}})
        hits["t"] += iv.method == "t" and iv.low <= -0.08 <= iv.high
        _, iv = _bwt(two, {"m": {100: list(end[i]), 200: list(final[i])},
                           "c": {100: list(c_end[i]), 200: list(c_final[i])}}, seed=i, resamples=1000)
        hits["bootstrap"] += iv.method == "bootstrap" and iv.low <= 0.03 <= iv.high
        iv = ratio_interval(last[i], start[i], seed=i, resamples=1000)
        hits["retention"] += iv.low <= 0.7 <= iv.high
    coverage = {k: v / sims for k, v in hits.items()}
    assert all(0.92 <= c <= 0.98 for c in coverage.values()), coverage
