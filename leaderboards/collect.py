"""Reading a results directory back: every stored statistic of every cell, with its per-prompt values.

Built from the store alone (plus a sweep manifest to name schedules, steps and stages), so anyone with
the results directory can rebuild a leaderboard. Only done cells count (a valid cell manifest), and
only scores computed from a cell's current generations for its current grader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creval.errors import CrevalError
from creval.stats import CELL, mean_interval, statistic_info
from creval.store import Store

from .analysis import check_comparable

if TYPE_CHECKING:
    from creval.manifest import Manifest
    from creval.sweep import PlannedCell


@dataclass
class CellScores:
    key: str
    task: str
    family: str
    meta: dict
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # statistic -> prompt id -> value
    signatures: dict[str, str] = field(default_factory=dict)

    def summary(self, statistic: str) -> tuple[float, float, float, int]:
        per_prompt = self.values.get(statistic, {})
        if set(per_prompt) == {CELL}:  # a statistic across prompts: one value, no interval
            return per_prompt[CELL], float("nan"), float("nan"), 1
        return mean_interval(list(per_prompt.values()), bounds=statistic_info(statistic).bounds).as_tuple()


def read_cell(store: Store, key: str) -> CellScores:
    """A done cell's statistics: the scores of its current grader computed from its current generations."""
    if not store.is_finished(key):
        problems = store.verify(key, deep=False)
        raise CrevalError(problems[0] if problems else f"cell {key} is not complete (interrupted before its manifest "
                          f"was written): run the sweep or `creval run` again to finish it")
    _, meta = store.read_generations(key)
    try:
        task = meta["task"]
        cell = CellScores(key, task.get("label", task["name"]), task["family"], meta)
        generation_id = meta["generation_id"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise CrevalError(f"cell {key}: generations.parquet has damaged provenance (no {exc})") from None
    for table in store.current_scores(key, generation_id):
        for row in table.to_pylist():
            cell.values.setdefault(row["statistic"], {})[row["prompt_id"]] = row["value"]
            cell.signatures[row["statistic"]] = row["signature"]
    return cell


def read_results(results: Path) -> list[CellScores]:
    store = Store(results)
    store.check_layout()
    # done cells; an interrupted one (readable, no manifest yet) is left out; a damaged one is an error
    keys = [key for key in store.cells() if store.is_finished(key) or store.verify(key, deep=False)]
    if not keys:
        raise CrevalError(f"no cells in {results} (run `creval run` or `creval sweep` first)")
    return [read_cell(store, key) for key in keys]


@dataclass
class SweepScores:
    """A sweep's planned places and the stored statistics of the done ones (one stored cell may sit at
    several places: identical checkpoints share a content-addressed cell)."""

    manifest: Manifest
    places: list[PlannedCell]
    placed: list[tuple[PlannedCell, CellScores]]

    @property
    def incomplete(self) -> list[PlannedCell]:
        done = {p.key for p, _ in self.placed}
        return [p for p in self.places if p.key not in done]

    def rows(self) -> list[dict[str, Any]]:
        """The leaderboard's values: one row per place (schedule, step) and statistic of each task, with
        the mean over prompts and its interval; refused when signatures are not comparable; sorted by
        schedule, task, statistic, step."""
        rows = []
        for p, cell in self.placed:
            for stat in cell.values:
                mean, low, high, count = cell.summary(stat)
                rows.append({"schedule": p.schedule, "step": p.step, "stage": p.stage, "task": cell.task,
                             "family": cell.family, "statistic": stat, "mean": mean, "ci_low": low, "ci_high": high,
                             "n_prompts": count, "signature": cell.signatures[stat], "cell": p.key})
        check_comparable(rows)
        return sorted(rows, key=lambda r: (r["schedule"], r["task"], r["statistic"], r["step"]))


def read_sweep(results: Path, manifest_path: Path) -> SweepScores:
    """The places of a sweep manifest (from the sweep index: no checkpoint or task data needed) and the
    done cells of ``results`` at them."""
    from creval.manifest import load_manifest
    from creval.sweep import placed

    manifest = load_manifest(manifest_path)
    places = placed(manifest)
    planned = [p for p in places if p.state == "done"]
    wanted = {p.key for p in planned}
    cells = {c.key: c for c in read_results(results) if c.key in wanted}
    if not cells:
        raise CrevalError(f"no cell of {manifest_path} is in {results}: run `creval sweep {manifest_path}` first")
    return SweepScores(manifest, places, [(p, cells[p.key]) for p in planned if p.key in cells])
