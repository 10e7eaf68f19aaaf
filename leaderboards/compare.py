"""``creval compare BASELINE CANDIDATE``: paired comparison of two runs, for CI gates.

BASELINE and CANDIDATE are results directories (one cell per task each, as ``creval run`` writes
for one checkpoint) or cell directories. Tasks are paired by label, statistics by name, prompts by id.
For each statistic: the candidate's mean minus the baseline's over the prompts both have, with a 95%
paired bootstrap interval. A gate ``--max-drop pass@1=0.02`` is crossed when the drop is larger than
0.02 and significant (the interval's upper end is below 0). Exit codes: 0 no gate crossed, 1 a gate
crossed (a significant regression), 2 bad input.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from creval.errors import CrevalError
from creval.store import Store

from .analysis import paired_bootstrap
from .collect import CellScores, read_cell


@dataclass(frozen=True)
class Difference:
    task: str
    statistic: str
    baseline: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    prompts: int
    gate: float | None = None

    @property
    def crossed(self) -> bool:
        return self.gate is not None and self.difference < -self.gate and self.ci_high < 0


def _cells(path: Path) -> dict[str, CellScores]:
    store, keys = Store.locate(path)
    if not keys:
        raise CrevalError(f"no cells in {path}")
    cells: dict[str, CellScores] = {}
    for key in keys:
        cell = read_cell(store, key)
        if cell.task in cells:
            raise CrevalError(f"{path} holds more than one cell for task {cell.task}: pass a cell directory "
                              f"({store.cell_dir(key)}) or one run's results")
        cells[cell.task] = cell
    return cells


def parse_gates(specs: list[str]) -> dict[str, float]:
    gates = {}
    for spec in specs:
        name, eq, raw = spec.partition("=")
        try:
            gates[name] = float(raw)
        except ValueError:
            raise CrevalError(f"--max-drop {spec!r}: expected STATISTIC=NUMBER, e.g. pass@1=0.02") from None
        if not eq or not name:
            raise CrevalError(f"--max-drop {spec!r}: expected STATISTIC=NUMBER, e.g. pass@1=0.02")
    return gates


def compare(baseline: Path, candidate: Path, gates: dict[str, float]) -> list[Difference]:
    a, b = _cells(baseline), _cells(candidate)
    common = sorted(set(a) & set(b))
    if not common:
        raise CrevalError(f"{baseline} and {candidate} have no task in common ({sorted(a)} vs {sorted(b)})")
    out = []
    for task in common:
        for stat in sorted(set(a[task].values) & set(b[task].values)):
            if a[task].signatures[stat] != b[task].signatures[stat]:
                raise CrevalError(f"not comparable: {stat} on {task}: {a[task].signatures[stat]} vs {b[task].signatures[stat]}")
            diff, low, high, n = paired_bootstrap(a[task].values[stat], b[task].values[stat])
            out.append(Difference(task, stat, a[task].summary(stat)[0], b[task].summary(stat)[0], diff, low, high, n,
                                  gates.get(stat)))
    unknown = set(gates) - {d.statistic for d in out}
    if unknown:
        raise CrevalError(f"--max-drop names statistics neither run has: {sorted(unknown)}")
    return out


def markdown(diffs: list[Difference]) -> str:
    lines = ["| task | statistic | baseline | candidate | difference | 95% CI | gate |", "|---|---|---|---|---|---|---|"]
    for d in diffs:
        gate = "" if d.gate is None else (f"**crossed** (max drop {d.gate})" if d.crossed else f"ok (max drop {d.gate})")
        lines.append(f"| {d.task} | {d.statistic} | {d.baseline:.4f} | {d.candidate:.4f} | {d.difference:+.4f} | "
                     f"[{d.ci_low:+.4f}, {d.ci_high:+.4f}] | {gate} |")
    crossed = [d for d in diffs if d.crossed]
    lines.append("")
    lines.append(f"**{len(crossed)} gate(s) crossed**: " + ", ".join(f"{d.task} {d.statistic}" for d in crossed)
                 if crossed else "No gate crossed.")
    return "\n".join(lines) + "\n"
