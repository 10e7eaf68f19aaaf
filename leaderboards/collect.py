"""Reading a results directory back: every stored statistic of every cell, with its per-prompt values.

Built from the store alone (plus a sweep manifest to name schedules, steps and stages), so anyone with
the results directory can rebuild a leaderboard. Only done cells count (a valid cell manifest), and
only scores computed from a cell's current generations for its current grader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from creval.errors import CrevalError
from creval.stats import CELL, mean_interval, statistic_info
from creval.store import Store


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
