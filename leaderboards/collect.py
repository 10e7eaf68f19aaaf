"""Reading a results directory back: every stored statistic of every cell, with its per-prompt values.

Built from the store alone (plus a sweep manifest to name schedules, steps and stages), so anyone with
the results directory can rebuild a leaderboard. Only scores computed from a cell's current
generations count (their ``generation_id`` must match).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from creval.errors import CrevalError
from creval.store import Store

from creval.stats import mean_interval, statistic_info


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
        if set(per_prompt) == {""}:  # a statistic across prompts: one value, no interval
            return per_prompt[""], float("nan"), float("nan"), 1
        return mean_interval(list(per_prompt.values()), bounds=statistic_info(statistic).bounds).as_tuple()


def read_cell(store: Store, key: str) -> CellScores:
    _, meta = store.read_generations(key)
    task = meta["task"]
    cell = CellScores(key, task.get("label", task["name"]), task["family"], meta)
    for path in sorted(store.cell_dir(key).glob("scores-*.parquet")):
        table = pq.read_table(path)
        info = json.loads((table.schema.metadata or {}).get(b"creval", b"{}"))
        if info.get("generation_id") != meta["generation_id"]:
            continue  # computed from generations since replaced (--force)
        for row in table.to_pylist():
            cell.values.setdefault(row["statistic"], {})[row["prompt_id"]] = row["value"]
            cell.signatures[row["statistic"]] = row["signature"]
    return cell


def read_results(results: Path) -> list[CellScores]:
    store = Store(results)
    keys = store.cells()
    if not keys:
        raise CrevalError(f"no cells in {results} (run `creval run` or `creval sweep` first)")
    return [read_cell(store, key) for key in keys]
