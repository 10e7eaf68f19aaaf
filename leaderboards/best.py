"""``creval best``: per schedule, the checkpoint to ship on a held-out statistic, chosen so that the
number reported for it is not inflated by the choice, and the steps where the trainer's own reward
kept rising while that statistic fell.

Choice. The prompts are split in two halves by a seeded hash of their ids. On the *selection* half the
top checkpoint is the one with the best mean (direction of "better" from ``creval.stats``; ties to
the earlier step). An earlier checkpoint replaces it when a paired test shows it within ``tolerance``
of the top (non-inferiority: the one-sided 95% lower bound of earlier - top, in the better direction,
is above -tolerance); the earliest such checkpoint wins (cheaper, and less trained away from the base
model). The chosen checkpoint's value is then reported on the *held-out* half, which played no part
in the choice: picking the highest of several noisy means and reporting that same mean overstates it
(the winner's curse: +0.033 with 10 equal checkpoints on 60 prompts). With fewer than
``2 * min_prompts`` prompts there is no split: choice and report share all prompts, and say so.

Divergence. Between consecutive checkpoints: the training reward (a CSV exported from wandb or
TensorBoard: a step column and a reward column; at each checkpoint, the mean of the rows within the
last ``window`` steps) rose while the statistic got significantly worse (paired sign-flip test on all
prompts, one-sided 5%, Holm over the schedule's consecutive pairs).
"""
from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from creval.errors import CrevalError
from creval.stats import MIN_PROMPTS, holm, mean_interval, paired, statistic_info

Values = Mapping[str, float]  # prompt id -> value


def split_prompts(prompts: Sequence[str], seed: int = 0) -> tuple[list[str], list[str]]:
    """(selection, held-out): halves of ``prompts`` by a seeded hash, independent of their order."""
    ranked = sorted(prompts, key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest())
    half = len(ranked) // 2
    return sorted(ranked[:half]), sorted(ranked[half:])


def _subset(values: Values, keep: Sequence[str]) -> dict[str, float]:
    return {p: values[p] for p in keep if p in values}


def mean_of(values: Values) -> float:
    finite = [v for v in values.values() if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


@dataclass(frozen=True)
class Choice:
    step: int
    top_step: int
    reason: str
    selection_mean: float  # the chosen checkpoint's mean on the selection prompts
    value: float  # ... on the held-out prompts (all prompts when there is no split)
    ci_low: float
    ci_high: float
    prompts: int  # prompts behind ``value``
    held_out: bool


def choose(trajectory: Mapping[int, Values], statistic: str, *, tolerance: float = 0.01, seed: int = 0,
           min_prompts: int = MIN_PROMPTS) -> Choice:
    """The checkpoint to ship among ``trajectory`` (step -> per-prompt values of ``statistic``)."""
    info = statistic_info(statistic)
    sign = info.direction or 1
    prompts = sorted({p for values in trajectory.values() for p, v in values.items() if math.isfinite(v)})
    if not prompts:
        raise CrevalError(f"no checkpoint has a value for {statistic}")
    held_out = len(prompts) >= 2 * min_prompts
    select, report = split_prompts(prompts, seed) if held_out else (prompts, prompts)
    sel = {s: _subset(v, select) for s, v in trajectory.items()}
    means = {s: mean_of(v) for s, v in sel.items() if math.isfinite(mean_of(v))}
    top = max(sorted(means), key=lambda s: sign * means[s])
    chosen, why = top, "it scored best on the selection prompts"
    for step in sorted(s for s in means if s < top):
        r = paired(sel[top], sel[step], min_prompts=min_prompts, level=0.90)
        bound = r.low if sign > 0 else -r.high  # one-sided 95% bound of (earlier - top), in the better direction
        if r.testable and bound > -tolerance:
            chosen = step
            why = (f"it is earlier than step {top} (which scored best, {means[top]:.4f}) and within {tolerance:g} "
                   f"of it (one-sided 95% bound {bound:+.4f} over {r.prompts} paired prompts)")
            break
    iv = mean_interval(list(_subset(trajectory[chosen], report).values()), bounds=info.bounds)
    where = f"{len(report)} held-out prompts not used for the choice" if held_out else \
        f"the same {len(report)} prompts the choice used (too few to hold out half; the value is biased upward)"
    return Choice(chosen, top, f"step {chosen} chosen: {why}; value on {where}", means[chosen],
                  iv.mean, iv.low, iv.high, iv.n, held_out)


def read_rewards(path: Path) -> list[tuple[int, float]]:
    """(step, reward) rows; the step column is ``step``/``Step``/``global_step``/``_step``, the reward
    column the first other numeric one (``Value`` in TensorBoard exports)."""
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise CrevalError(f"{path}: cannot read rewards ({exc.strerror or exc})") from None
    if not rows:
        raise CrevalError(f"{path}: no rows")
    columns = list(rows[0])
    step_col = next((c for c in ("step", "Step", "global_step", "_step") if c in columns), None)
    if step_col is None:
        raise CrevalError(f"{path}: no step column (step, Step, global_step or _step); columns: {columns}")

    def numeric(c: str) -> bool:
        try:
            float(rows[0][c])
            return True
        except (TypeError, ValueError):
            return False

    reward_col = next((c for c in columns if c != step_col and "reward" in c.lower() and numeric(c)), None) or \
        next((c for c in columns if c not in (step_col, "Wall time", "wall_time") and numeric(c)), None)
    if reward_col is None:
        raise CrevalError(f"{path}: no numeric reward column; columns: {columns}")
    return sorted((int(float(r[step_col])), float(r[reward_col])) for r in rows if r.get(reward_col) not in ("", None))


def reward_at(rewards: Sequence[tuple[int, float]], step: int, window: int) -> float:
    recent = [r for s, r in rewards if step - window < s <= step]
    if not recent:
        earlier = [r for s, r in rewards if s <= step]
        return earlier[-1] if earlier else float("nan")
    return sum(recent) / len(recent)


def divergences(trajectory: Mapping[int, Values], statistic: str, rewards: Sequence[tuple[int, float]],
                window: int = 50, alpha: float = 0.05, min_prompts: int = MIN_PROMPTS) -> list[dict[str, Any]]:
    """Steps at which the training reward rose since the previous checkpoint while ``statistic`` got
    significantly worse (Holm-adjusted one-sided p < ``alpha`` over the consecutive pairs)."""
    direction = statistic_info(statistic).direction
    steps = sorted(trajectory)
    pairs = []
    for prev, cur in pairwise(steps):
        if reward_at(rewards, cur, window) > reward_at(rewards, prev, window):
            r = paired(trajectory[prev], trajectory[cur], min_prompts=min_prompts)
            if r.testable:
                pairs.append((prev, cur, r, r.p_worse(direction)))
    adjusted = holm([p for *_, p in pairs])
    return [{"step": cur, "previous": prev, "change": r.difference, "p_adjusted": p}
            for (prev, cur, r, _), p in zip(pairs, adjusted) if p < alpha]
