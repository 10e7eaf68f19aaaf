"""95% intervals of the landing table's derived columns, from the per-prompt values of the cells.

* **Backward transfer**: BWT = mean over its terms of R(family, final) - R(family, stage end), R the mean
  over a family's tasks of a task's mean over prompts. Where every term is on one task whose prompts all
  have values at every checkpoint used, BWT is the mean over prompts of a per-prompt linear combination
  (the mean over the terms of the prompt's change): Student's t interval on those per-prompt values
  (``mean_interval``), the exact analogue of a final value's interval. Otherwise (terms on several tasks,
  whose prompts differ, or values missing at some checkpoints) BWT is not one mean over one set of
  prompts: the paired bootstrap over prompts (``bootstrap_interval``, each task's prompts resampled
  jointly across its checkpoints, tasks independently).
* **Creativity retention** (a ratio of two means over the same prompts): the paired bootstrap
  (``ratio_interval``).

A statistic computed once per cell (no per-prompt values) or a missing cell gives no interval, with the
reason as the method.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from creval.stats import CELL, CELL_LEVEL, RESAMPLES, Interval, bootstrap_interval, mean_interval, ratio_interval

Values = Callable[[str, int], Mapping[str, float] | None]  # (task, step) -> prompt id -> value


def as_json(iv: Interval) -> dict[str, Any]:
    """The interval's fields as leaderboard.json stores them (NaN becomes null when written)."""
    return {"ci_low": iv.low, "ci_high": iv.high, "prompts": iv.n, "method": iv.method}


def _none(reason: str) -> Interval:
    return Interval(float("nan"), float("nan"), float("nan"), 0, reason)


def _matrix(values: Values, task: str, steps: Sequence[int]) -> np.ndarray | str:
    """prompts x steps (NaN where a prompt has no value at a step), or why there is none."""
    per = [values(task, s) for s in steps]
    missing = [s for s, p in zip(steps, per) if p is None]
    if missing:
        return f"{task} has no values at step {missing[0]} (no cell, or not this statistic): no interval"
    if any(set(p) == {CELL} for p in per if p is not None):
        return CELL_LEVEL
    prompts = sorted(set().union(*(p for p in per if p is not None)))
    return np.array([[(p or {}).get(q, math.nan) for p in per] for q in prompts], dtype=np.float64)


def bwt_interval(bwt: Mapping[str, Any], family_tasks: Mapping[str, Sequence[str]], values: Values, *,
                 seed: int = 0, resamples: int = RESAMPLES) -> Interval:
    """The interval of ``backward_transfer``'s value; ``family_tasks``: family -> its tasks; ``values``:
    the per-prompt values of the statistic R of the task's family at a step."""
    terms = [t for t in bwt.get("terms", []) if math.isfinite(t["change"])]
    if not terms:
        return _none("no term: no interval")
    steps = sorted({t["end"] for t in terms} | {t["final"] for t in terms})
    col = {s: i for i, s in enumerate(steps)}
    tasks = [task for f in dict.fromkeys(t["family"] for t in terms) for task in family_tasks.get(f, [])]
    groups = []
    for task in tasks:
        m = _matrix(values, task, steps)
        if isinstance(m, str):
            return _none(m)
        groups.append(m)
    index = {task: i for i, task in enumerate(tasks)}

    def statistic(g: list[np.ndarray]) -> np.ndarray:
        means = [np.nanmean(x, axis=1) for x in g]  # per task: (B, steps)
        family = {f: np.nanmean(np.stack([means[index[k]] for k in family_tasks[f]]), axis=0)
                  for f in {t["family"] for t in terms}}
        return np.nanmean(np.stack([family[t["family"]][:, col[t["final"]]] - family[t["family"]][:, col[t["end"]]]
                                    for t in terms]), axis=0)

    if len(groups) == 1 and not np.isnan(groups[0]).any():
        per_prompt = statistic([groups[0][:, None, :]])  # each prompt as a sample of one: its own combination
        return mean_interval(per_prompt)
    return bootstrap_interval(statistic, groups, seed=seed, resamples=resamples)


def retention_interval(values: Values, task: str, first: int, last: int, *, seed: int = 0,
                       resamples: int = RESAMPLES) -> Interval:
    """The interval of creativity retention: the diversity at ``last`` over the diversity at ``first``."""
    m = _matrix(values, task, [first, last])
    if isinstance(m, str):
        return _none(m)
    return ratio_interval(m[:, 1], m[:, 0], seed=seed, resamples=resamples)
