"""``creval leaderboard build``: from a results directory and its sweep manifest to a leaderboard.

Per schedule, task and statistic: the value at every checkpoint (mean over prompts with the 95%
interval of ``creval.stats``), the final value and the area under the trajectory; per schedule:
minimum and final token entropy, the collapse step (first step whose entropy is below half the first
checkpoint's, or an absolute threshold), creativity retention (writing diversity at the end / at the
start), the entropy-performance fit per structured task (refused, with the reason, where it would mean
nothing), backward transfer for staged schedules (stages declare their ``families``; the stage-end
checkpoints used are listed); across schedules: the Pareto front of (structured pass@1, writing
diversity) over all checkpoints, and paired comparisons at the final checkpoints against the first
schedule (sign-flip test; "not testable" rows are never separated). Values whose signatures are not
comparable are refused (``check_comparable``). Written: ``leaderboard.json``, ``leaderboard.csv``,
``leaderboard.md``, and the site (``site.py``).
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
from creval.stats import paired, statistic_info
from creval.sweep import placed as placed_cells

from .analysis import (
    area_under,
    backward_transfer,
    check_comparable,
    collapse_step,
    fit_entropy_law,
    pareto_front,
    stage_ends,
    structured_correctness,
)
from .collect import CellScores, read_results

STRUCTURED = ("math", "code")
DIVERSITY = "distinct-2"
CORRECT = "pass@1"
ENTROPY = "token_entropy"  # of the distribution sampled (after top-p; 0 when greedy)
MODEL_ENTROPY = "token_entropy_model"  # the policy's full-vocabulary entropy at temperature T


def _mean(values: list[float]) -> float:
    vals = [v for v in values if math.isfinite(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def build(results: Path, manifest_path: Path, out: Path, *, entropy_threshold: float = 0.5, relative: bool = True,
          diversity: str = DIVERSITY) -> dict[str, Any]:
    """``diversity``: the writing statistic for creativity retention, backward transfer and the Pareto
    front (distinct-2 by default; distinct-1 suits one-word answers). Collapse: entropy below
    ``entropy_threshold`` times the first checkpoint's (``relative``, the default: 0.5 = half of it)
    or below ``entropy_threshold`` nats."""
    manifest = load_manifest(manifest_path)
    places = placed_cells(manifest)  # from the sweep index: no checkpoint or task data needed
    planned = [c for c in places if c.state == "done"]
    cells = {c.key: c for c in read_results(results) if c.key in {p.key for p in planned}}
    if not cells:
        raise CrevalError(f"no cell of {manifest_path} is in {results}: run `creval sweep {manifest_path}` first")
    # one stored cell may sit at several places (identical checkpoints share a content-addressed cell)
    placed = [(p, cells[p.key]) for p in planned if p.key in cells]
    rows: list[dict[str, Any]] = []
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
            entropy = _policy_entropy(per)
            if entropy:
                ent = per[entropy]
                t["entropy_statistic"] = entropy
                t["entropy_min"] = min(h for _, h in ent)
                t["entropy_final"] = ent[-1][1]
                t["collapse_step"] = collapse_step([s for s, _ in ent], [h for _, h in ent], entropy_threshold,
                                                   relative=relative)
            if family in STRUCTURED and entropy and CORRECT in per:
                try:
                    fit = fit_entropy_law([h for _, h in per[entropy]], [r for _, r in per[CORRECT]])
                    t["entropy_law"] = {"a": fit.a, "b": fit.b, "ceiling": fit.ceiling, "r2": fit.r2, "points": fit.points}
                except CrevalError as exc:
                    t["entropy_law"] = {"refused": str(exc)}
            if family == "writing" and diversity in per and len(per[diversity]) > 1 and per[diversity][0][1]:
                t["creativity_retention"] = per[diversity][-1][1] / per[diversity][0][1]
            a["tasks"][task] = t
        schedule = next(s for s in manifest.schedules if s.name == sched)
        if len(schedule.stages) > 1:
            stages, warnings = stage_ends([(n, u, schedule.domains.get(n, [])) for n, u in schedule.stages], sched_steps)
            if len(stages) > 1:
                # the lambda is called inside backward_transfer, during this iteration
                a["backward_transfer"] = {**backward_transfer(stages, lambda f, st: domain_score(sched, st, f)),  # noqa: B023
                                          "warnings": warnings}
            else:
                a["backward_transfer"] = {"refused": "fewer than two stages have an evaluated checkpoint",
                                          "warnings": warnings}
        analysis[sched] = a

    # x: structured correctness, the mean over the structured families present; y: writing diversity
    points = [(s, st, structured_correctness({f: domain_score(s, st, f) for f in set(families.values())}),
               _mean([value.get((s, st, t, diversity), float("nan")) for t, f in families.items() if f == "writing"]))
              for s in schedules for st in steps[s]]
    front = pareto_front([(x, y) for _, _, x, y in points], (1, statistic_info(diversity).direction or 1))
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
                comparisons.append({"baseline": base, "schedule": other, "task": task, "statistic": stat,
                                    **_compared(a_cell.values[stat], b_cell.values[stat])})

    board = {"manifest": str(manifest_path), "schedules": schedules, "rows": rows, "analysis": analysis, "diversity": diversity,
             "pareto": pareto, "comparisons": comparisons,
             "entropy_threshold": {"value": entropy_threshold, "relative": relative},
             "incomplete": [{"schedule": c.schedule, "step": c.step, "task": c.task, "state": c.state}
                            for c in places if c.key not in cells]}
    out.mkdir(parents=True, exist_ok=True)
    _write_outputs(board, out)
    from .site import write_site

    write_site(board, placed, results, out)
    return board


def _compared(a: dict[str, float], b: dict[str, float]) -> dict[str, Any]:
    """A final-checkpoint comparison: the paired difference, its interval and whether the sign-flip test
    separates it from zero (two-sided 5%, unadjusted); what cannot be tested is never "separated"."""
    r = paired(a, b)
    return {"difference": r.difference, "ci_low": r.low, "ci_high": r.high, "prompts": r.prompts,
            "testable": r.testable, "note": r.reason, "p": min(1.0, 2 * min(r.p_lower, r.p_higher)),
            "separated": bool(r.testable and min(r.p_lower, r.p_higher) < 0.025)}


def _policy_entropy(per: dict[str, list[tuple[int, float]]]) -> str | None:
    """The entropy statistic the trajectory analysis uses: the model's (the policy entropy of the
    entropy-performance law) where the backend recorded it, else the sampled distribution's."""
    for stat in (MODEL_ENTROPY, ENTROPY):
        if any(math.isfinite(v) for _, v in per.get(stat, [])):
            return stat
    return None


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
        lines.append("Differences the paired sign-flip test does not separate from zero (or cannot test): " +
                     "; ".join(f"{c['schedule']} vs {c['baseline']} {c['task']} {c['statistic']}" for c in marked))
    return "\n".join(lines) + "\n"
