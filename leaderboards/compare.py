"""``creval compare BASELINE CANDIDATE``: paired comparison of two runs, for CI gates.

BASELINE and CANDIDATE are results directories (one cell per task each, as ``creval run`` writes
for one checkpoint) or cell directories. Tasks are paired by label, statistics by name, prompts by id;
every number in a row (both means, the difference, its interval) is over the prompts both sides have,
and the row says how many that is and how many only one side has.

A gate ``--max-drop pass@1=0.02`` is crossed when the candidate is worse by more than 0.02 (worse:
lower where higher is better, higher where lower is better, lower for statistics without a direction
such as token entropy) AND the sign-flip test calls it worse at the one-sided 2.5% level after Holm's
correction over all gates of the run (``--no-correction`` opts out). A row with fewer than
``min_prompts`` paired prompts or without variation in its per-prompt differences is "not testable"
and never crosses. Statistics computed once per cell (``distinct-2-corpus``) have nothing to resample:
they are shown as values and gated only with ``--gate-cell-level`` (then on the point difference).
Exit codes: 0 no gate crossed, 1 a gate crossed, 2 bad input (including two runs that share fewer than
``min_prompts`` prompts of a task).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from creval.errors import CrevalError
from creval.signature import comparable
from creval.stats import CELL_LEVEL, MIN_PROMPTS, holm, paired, statistic_info
from creval.store import Store

from .collect import CellScores, read_cell

ALPHA = 0.025  # one-sided: the tail of the 95% two-sided interval the table prints


@dataclass(frozen=True)
class Difference:
    task: str
    statistic: str
    better: str  # "higher", "lower" or "neither" (drops count as worse)
    baseline: float
    candidate: float
    difference: float
    ci_low: float
    ci_high: float
    prompts: int
    only_baseline: int = 0
    only_candidate: int = 0
    p_worse: float | None = None  # one-sided p-value that the candidate is worse
    p_adjusted: float | None = None  # after Holm over the run's gates
    testable: bool = True
    note: str = ""
    gate: float | None = None
    crossed: bool = False

    @property
    def worse_by(self) -> float:
        """How much worse the candidate is, in the statistic's units (negative: better)."""
        return self.difference if self.better == "lower" else -self.difference


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
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not eq or not name or not math.isfinite(value) or value < 0:
            raise CrevalError(f"--max-drop {spec!r}: expected STATISTIC=NUMBER with a finite number >= 0, "
                              "e.g. pass@1=0.02")
        gates[name] = value
    return gates


def _prompt_ids(cell: CellScores) -> set[str]:
    return {p for values in cell.values.values() for p in values if p != ""}


def _row(task: str, stat: str, a: CellScores, b: CellScores, gate: float | None, min_prompts: int) -> Difference:
    better = statistic_info(stat).better
    r = paired(a.values[stat], b.values[stat], min_prompts=min_prompts)
    direction = {"higher": 1, "lower": -1, "neither": 0}[better]
    return Difference(task, stat, better, r.baseline, r.candidate, r.difference, r.low, r.high, r.prompts,
                      r.only_baseline, r.only_candidate, r.p_worse(direction) if r.testable else None,
                      testable=r.testable, note=r.reason, gate=gate)


def compare(baseline: Path, candidate: Path, gates: dict[str, float], *, min_prompts: int = MIN_PROMPTS,
            correction: bool = True, gate_cell_level: bool = False, alpha: float = ALPHA) -> list[Difference]:
    a, b = _cells(baseline), _cells(candidate)
    common = sorted(set(a) & set(b))
    if not common:
        raise CrevalError(f"{baseline} and {candidate} have no task in common ({sorted(a)} vs {sorted(b)})")
    rows = []
    for task in common:
        shared = len(_prompt_ids(a[task]) & _prompt_ids(b[task]))
        if shared < min_prompts:
            raise CrevalError(f"{task}: the two runs share {shared} prompts, fewer than --min-prompts {min_prompts}: "
                              "too few to tell a regression from noise")
        for stat in sorted(set(a[task].values) & set(b[task].values)):
            ok, why = comparable(a[task].signatures[stat], b[task].signatures[stat])
            if not ok:
                raise CrevalError(f"not comparable: {stat} on {task}: {why}")
            rows.append(_row(task, stat, a[task], b[task], gates.get(stat), min_prompts))
    unknown = set(gates) - {d.statistic for d in rows}
    if unknown:
        raise CrevalError(f"--max-drop names statistics neither run has: {sorted(unknown)}")
    return _decide(rows, correction=correction, gate_cell_level=gate_cell_level, alpha=alpha)


def _decide(rows: list[Difference], *, correction: bool, gate_cell_level: bool, alpha: float) -> list[Difference]:
    """Holm over the testable gated rows; a gate is crossed when worse by more than the gate and
    significant after the correction (cell-level rows: on the point difference, if asked)."""
    family = [(i, d.gate, d.p_worse) for i, d in enumerate(rows) if d.gate is not None and d.p_worse is not None]
    p_values = [p for _, _, p in family]
    adjusted = holm(p_values) if correction else p_values
    out = list(rows)
    for (i, gate, _), p in zip(family, adjusted):
        d = rows[i]
        out[i] = replace(d, p_adjusted=p, crossed=bool(d.worse_by > gate and p < alpha))
    if gate_cell_level:
        for i, d in enumerate(out):
            if d.gate is not None and d.note == CELL_LEVEL:
                out[i] = replace(d, crossed=bool(d.worse_by > d.gate))
    return out


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, fmt)


def markdown(diffs: list[Difference], *, correction: bool = True) -> str:
    lines = ["| task | statistic | better | paired prompts | baseline | candidate | difference | 95% CI | p (worse) | gate |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for d in diffs:
        gate = ""
        if d.gate is not None:
            gate = f"**crossed** (max drop {d.gate:g})" if d.crossed else f"ok (max drop {d.gate:g})"
        ci = f"[{_num(d.ci_low, '+.4f')}, {_num(d.ci_high, '+.4f')}]" if d.testable else f"not testable: {d.note}"
        paired_n = str(d.prompts) + (f" ({d.only_baseline}+{d.only_candidate} unpaired)"
                                     if d.only_baseline or d.only_candidate else "")
        p = _num(d.p_adjusted if d.p_adjusted is not None else d.p_worse, ".4f")
        lines.append(f"| {d.task} | {d.statistic} | {d.better} | {paired_n} | {_num(d.baseline, '.4f')} | "
                     f"{_num(d.candidate, '.4f')} | {_num(d.difference, '+.4f')} | {ci} | {p} | {gate} |")
    crossed = [d for d in diffs if d.crossed]
    lines.append("")
    lines.append(f"**{len(crossed)} gate(s) crossed**: " + ", ".join(f"{d.task} {d.statistic}" for d in crossed)
                 if crossed else "No gate crossed.")
    gated = [d for d in diffs if d.gate is not None]
    if gated:
        family = f"Holm over {sum(d.p_adjusted is not None for d in gated)} testable gates" if correction else \
            "each gate on its own, no correction"
        lines.append(f"Gates: worse by more than the gate and significant at one-sided {ALPHA} (sign-flip test, {family}).")
    return "\n".join(lines) + "\n"
