"""``creval leaderboard build``: from a results directory and its sweep manifest to a leaderboard.

Per schedule, task and statistic: the value at every checkpoint (mean over prompts, 95% bootstrap
interval), the final value and the area under the trajectory; per schedule: minimum and final token
entropy, the collapse step (first step with entropy below ``entropy_threshold``), creativity
retention (writing diversity at the end / at the start), the entropy-performance fit per structured
task, backward transfer for staged schedules (stages declare their ``families``); across schedules:
the Pareto front of (structured pass@1, writing distinct-2) over all checkpoints, and paired bootstrap
differences at the final checkpoints against the first schedule. Values whose signatures differ are
refused (``check_comparable``). Written: ``leaderboard.json``, ``leaderboard.csv``, ``leaderboard.md``,
and the site (``site.py``).
"""
from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from creval.errors import CrevalError
from creval.jsonsafe import finite
from creval.manifest import load_manifest
from creval.sweep import placed as placed_cells

from .analysis import area_under, backward_transfer, check_comparable, collapse_step, fit_entropy_law, pareto_front, paired_bootstrap
from .collect import CellScores, read_results

STRUCTURED = ("math", "code")
DIVERSITY = "distinct-2"
CORRECT = "pass@1"
ENTROPY = "token_entropy"


def _mean(values: list[float]) -> float:
    vals = [v for v in values if math.isfinite(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def build(results: Path, manifest_path: Path, out: Path, *, entropy_threshold: float = 0.5,
          diversity: str = DIVERSITY) -> dict[str, Any]:
    """``diversity``: the writing statistic for creativity retention, backward transfer and the Pareto
    front (distinct-2 by default; distinct-1 suits one-word answers)."""
    manifest = load_manifest(manifest_path)
    places = placed_cells(manifest)  # from the sweep index: no checkpoint or task data needed
    planned = [c for c in places if c.state == "done"]
    cells = {c.key: c for c in read_results(results) if c.key in {p.key for p in planned}}
    if not cells:
        raise CrevalError(f"no cell of {manifest_path} is in {results}: run `creval sweep {manifest_path}` first")
    # one stored cell may sit at several places (identical checkpoints share a content-addressed cell)
    placed = [(p, cells[p.key]) for p in planned if p.key in cells]
    rows = []
    for p, cell in placed:
        key = p.key
        for stat in cell.values:
            mean, low, high, count = cell.summary(stat)
            rows.append({"schedule": p.schedule, "step": p.step, "stage": p.stage, "task": cell.task, "family": cell.family,
                         "statistic": stat, "mean": mean, "ci_low": low, "ci_high": high, "n_prompts": count,
                         "signature": cell.signatures[stat], "cell": key})
    check_comparable(rows)
    rows.sort(key=lambda r: (r["schedule"], r["task"], r["statistic"], r["step"]))
    schedules = [s.name for s in manifest.schedules]
    value = {(r["schedule"], r["step"], r["task"], r["statistic"]): r["mean"] for r in rows}
    families = {r["task"]: r["family"] for r in rows}
    steps = {s: sorted({r["step"] for r in rows if r["schedule"] == s}) for s in schedules}

    def domain_score(schedule: str, step: int, family: str) -> float:
        stat = CORRECT if family in STRUCTURED else diversity
        return _mean([value.get((schedule, step, t, stat), float("nan")) for t, f in families.items() if f == family])

    analysis: dict[str, Any] = {}
    for sched in schedules:
        sched_steps = steps[sched]
        if not sched_steps:
            continue
        a: dict[str, Any] = {"steps": sched_steps, "tasks": {}}
        for task, family in families.items():
            per: dict[str, list[tuple[int, float]]] = defaultdict(list)
            for r in rows:
                if r["schedule"] == sched and r["task"] == task:
                    per[r["statistic"]].append((r["step"], r["mean"]))
            t: dict[str, Any] = {"final": {s: v[-1][1] for s, v in per.items() if v},
                                 "area": {s: area_under([x for x, _ in v], [y for _, y in v]) for s, v in per.items()}}
            if ENTROPY in per:
                ent = per[ENTROPY]
                t["entropy_min"] = min(h for _, h in ent)
                t["entropy_final"] = ent[-1][1]
                t["collapse_step"] = collapse_step([s for s, _ in ent], [h for _, h in ent], entropy_threshold)
            if family in STRUCTURED and ENTROPY in per and CORRECT in per:
                try:
                    fit = fit_entropy_law([h for _, h in per[ENTROPY]], [r for _, r in per[CORRECT]])
                    t["entropy_law"] = {"a": fit.a, "b": fit.b, "ceiling": fit.ceiling, "r2": fit.r2, "points": fit.points}
                except CrevalError as exc:
                    t["entropy_law"] = {"refused": str(exc)}
            if family == "writing" and diversity in per and len(per[diversity]) > 1 and per[diversity][0][1]:
                t["creativity_retention"] = per[diversity][-1][1] / per[diversity][0][1]
            a["tasks"][task] = t
        schedule = next(s for s in manifest.schedules if s.name == sched)
        ends = []
        for name, _ in schedule.stages:
            in_stage = [c.step for c in schedule.checkpoints() if c.stage == name and c.step in sched_steps]
            for family in schedule.domains.get(name, []):
                if in_stage:
                    ends.append((family, max(in_stage)))
        if len({e for _, e in ends}) > 1:
            at = {(f, s): domain_score(sched, s, f) for f, s in ends + [(f, sched_steps[-1]) for f, _ in ends]}
            a["backward_transfer"] = backward_transfer(ends, at, sched_steps[-1])
        analysis[sched] = a

    points = [(s, st, domain_score(s, st, "math") if any(f == "math" for f in families.values()) else
               _mean([domain_score(s, st, f) for f in STRUCTURED]),
               _mean([value.get((s, st, t, diversity), float("nan")) for t, f in families.items() if f == "writing"]))
              for s in schedules for st in steps[s]]
    front = pareto_front([(x, y) for _, _, x, y in points])
    pareto = [{"schedule": s, "step": st, "correctness": x, "diversity": y, "on_front": i in front}
              for i, (s, st, x, y) in enumerate(points)]

    comparisons = []
    base = schedules[0]
    for other in schedules[1:]:
        if not steps.get(other) or not steps.get(base):
            continue
        for task in families:
            a_cell = _cell_at(placed, base, steps[base][-1], task)
            b_cell = _cell_at(placed, other, steps[other][-1], task)
            if a_cell is None or b_cell is None:
                continue
            for stat in sorted(set(a_cell.values) & set(b_cell.values)):
                diff, low, high, n = paired_bootstrap(a_cell.values[stat], b_cell.values[stat])
                comparisons.append({"baseline": base, "schedule": other, "task": task, "statistic": stat, "difference": diff,
                                    "ci_low": low, "ci_high": high, "prompts": n,
                                    "separated": bool(n and (low > 0 or high < 0))})

    board = {"manifest": str(manifest_path), "schedules": schedules, "rows": rows, "analysis": analysis, "diversity": diversity,
             "pareto": pareto, "comparisons": comparisons, "entropy_threshold": entropy_threshold,
             "incomplete": [{"schedule": c.schedule, "step": c.step, "task": c.task, "state": c.state}
                            for c in places if c.key not in cells]}
    out.mkdir(parents=True, exist_ok=True)
    _write_outputs(board, out)
    from .site import write_site

    write_site(board, placed, results, out)
    return board


def _cell_at(placed: list, schedule: str, step: int, task: str) -> CellScores | None:
    return next((c for p, c in placed if p.schedule == schedule and p.step == step and c.task == task), None)


def _write_outputs(board: dict[str, Any], out: Path) -> None:
    (out / "leaderboard.json").write_text(json.dumps(finite(board), indent=1, allow_nan=False))
    with open(out / "leaderboard.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["schedule", "step", "stage", "task", "family", "statistic", "mean",
                                                "ci_low", "ci_high", "n_prompts", "signature", "cell"])
        writer.writeheader()
        writer.writerows(board["rows"])
    (out / "leaderboard.md").write_text(markdown(board))


def markdown(board: dict[str, Any]) -> str:
    """The final checkpoint of every schedule: one row per schedule, a column per task and statistic."""
    final: dict[str, dict[str, float]] = defaultdict(dict)
    last = {s: max((r["step"] for r in board["rows"] if r["schedule"] == s), default=None) for s in board["schedules"]}
    wanted = (CORRECT, board.get("diversity", DIVERSITY), ENTROPY)
    for r in board["rows"]:
        if r["step"] == last[r["schedule"]] and r["statistic"] in wanted:
            final[r["schedule"]][f"{r['task']} {r['statistic']}"] = r["mean"]
    columns = sorted({c for v in final.values() for c in v})
    lines = ["| schedule | step | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for s in board["schedules"]:
        cells = [f"{final[s].get(c, float('nan')):.3f}" for c in columns]
        lines.append(f"| {s} | {last[s]} | " + " | ".join(cells) + " |")
    marked = [c for c in board["comparisons"] if not c["separated"] and c["statistic"] in wanted]
    if marked:
        lines.append("")
        lines.append("Differences the 95% paired bootstrap interval does not separate from zero: " +
                     "; ".join(f"{c['schedule']} vs {c['baseline']} {c['task']} {c['statistic']}" for c in marked))
    return "\n".join(lines) + "\n"
