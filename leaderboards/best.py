"""``creval best``: per schedule, the checkpoint that is best on a held-out statistic, and the steps
where the trainer's own reward kept rising while that statistic fell (reward hacking, or overfitting
to the training distribution).

Best: the highest mean; a checkpoint whose mean lies inside the best one's 95% interval is not
distinguishable from it, and among those the earliest step wins (cheaper, and less trained away from
the base model). Divergence: between consecutive evaluated checkpoints, the training reward (read
from a CSV exported from wandb or TensorBoard: a step column and a reward column; at each checkpoint,
the mean of the rows within the last ``window`` steps) rose while the statistic's mean fell.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from creval.errors import CrevalError


@dataclass(frozen=True)
class Point:
    step: int
    mean: float
    low: float
    high: float


def best_checkpoint(points: Sequence[Point]) -> Point:
    finite = [p for p in points if p.mean == p.mean]
    if not finite:
        raise CrevalError("no checkpoint has a value for this statistic")
    top = max(finite, key=lambda p: (p.mean, -p.step))
    floor = top.low if top.low == top.low else top.mean
    return min((p for p in finite if p.mean >= floor), key=lambda p: p.step)


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


def divergences(points: Sequence[Point], rewards: Sequence[tuple[int, float]], window: int = 50) -> list[int]:
    """Steps at which the training reward rose since the previous checkpoint while the statistic fell."""
    ordered = sorted(points, key=lambda p: p.step)
    flagged = []
    for prev, cur in zip(ordered, ordered[1:]):
        r0, r1 = reward_at(rewards, prev.step, window), reward_at(rewards, cur.step, window)
        if r1 > r0 and cur.mean < prev.mean:
            flagged.append(cur.step)
    return flagged
