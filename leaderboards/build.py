"""``creval leaderboard build``: from a results directory and its sweep manifest to a leaderboard.

Per schedule, task and statistic: the value at every checkpoint (mean over prompts with the 95%
interval of ``creval.stats``), the final value and the area under the trajectory; per schedule:
minimum and final token entropy, the collapse step (first step whose entropy is below half the first
checkpoint's, or an absolute threshold), creativity retention (writing diversity at the end / at the
start; one diversity statistic for the whole board: ``--diversity`` or ``choose_diversity``'s automatic
choice), the entropy-performance fit per structured task (refused, with the reason, where it would mean
nothing), backward transfer for staged schedules (stages declare their ``families``; the stage-end
checkpoints used are listed); BWT and retention with their 95% interval (``derived.py``); across schedules: the Pareto front of (structured pass@1, writing
diversity) over all checkpoints, and paired comparisons at the final checkpoints against the first
schedule (sign-flip test; "not testable" rows are never separated). Values whose signatures are not
comparable are refused (``check_comparable``). Written: ``leaderboard.json``, ``leaderboard.csv``,
``leaderboard.md`` (the landing table of ``landing.py``, the PNG plots and the probe and recommendation
reports found in the results directory, ``extras_page.py``), and the site (``site.py``).
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
from creval.stats import paired, statistic_info

from .analysis import (
    area_under,
    backward_transfer,
    collapse_step,
    fit_entropy_law,
    pareto_front,
    stage_ends,
    structured_correctness,
)
from .collect import CellScores, read_sweep
from .derived import as_json, bwt_interval, retention_interval
from .extras import read_extras
from .extras_page import usable

STRUCTURED = ("math", "code")
DIVERSITY = "distinct-2"
# the automatic choice: the first of these defined (finite) at every checkpoint of every writing task
DIVERSITY_ORDER = ("distinct-2", "distinct-1", "distinct-3", "ead-2", "ead-1", "embedding-diversity", "distinct-2-li",
                   "distinct-1-li")
CORRECT = "pass@1"
ENTROPY = "token_entropy"  # of the distribution sampled (after top-p; 0 when greedy)
MODEL_ENTROPY = "token_entropy_model"  # the policy's full-vocabulary entropy at temperature T


def _mean(values: list[float]) -> float:
    vals = [v for v in values if math.isfinite(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def choose_diversity(rows: list[dict], requested: str | None) -> dict[str, Any]:
    """The writing diversity statistic of the whole board, and why: ``requested`` where given (it must be
    a statistic of the results), else the first of ``DIVERSITY_ORDER`` with a finite value at every
    checkpoint of every writing task (distinct-2 is undefined on one-word outputs: no bigrams)."""
    writing = [r for r in rows if r["family"] == "writing"]
    present = sorted({r["statistic"] for r in writing} or {r["statistic"] for r in rows})
    if requested is not None:
        if requested not in {r["statistic"] for r in rows}:
            candidates = [s for s in present if statistic_info(s).direction == 1 and s in DIVERSITY_ORDER] or present
            raise CrevalError(f"--diversity {requested!r}: no such statistic in the results; the writing tasks have "
                              f"{', '.join(candidates)}")
        return {"statistic": requested, "requested": requested, "reason": "chosen with --diversity"}
    undefined: list[str] = []
    for stat in DIVERSITY_ORDER:
        values = [r["mean"] for r in writing if r["statistic"] == stat]
        if values and all(math.isfinite(v) for v in values):
            why = f"; {', '.join(undefined)} not defined at every writing checkpoint" if undefined else ""
            return {"statistic": stat, "requested": "auto", "reason": f"the first diversity statistic defined on the "
                    f"writing outputs{why}"}
        if values:
            undefined.append(stat)
    return {"statistic": DIVERSITY, "requested": "auto", "reason": "no diversity statistic is defined at every writing "
            "checkpoint" if writing else "no writing task"}


def build(results: Path, manifest_path: Path, out: Path, *, entropy_threshold: float = 0.5, relative: bool = True,
          diversity: str | None = None) -> dict[str, Any]:
    """``diversity``: the writing statistic of the tables, plots, creativity retention, backward transfer
    and the Pareto front; None: the automatic choice (``choose_diversity``). Collapse: entropy below
    ``entropy_threshold`` times the first checkpoint's (``relative``, the default: 0.5 = half of it)
    or below ``entropy_threshold`` nats."""
    scores = read_sweep(results, manifest_path)
    manifest, placed = scores.manifest, scores.placed
    rows = scores.rows()
    choice = choose_diversity(rows, diversity)
    diversity = choice["statistic"]
    schedules = [s.name for s in manifest.schedules]
    value = {(r["schedule"], r["step"], r["task"], r["statistic"]): r["mean"] for r in rows}
    families = {r["task"]: r["family"] for r in rows}
    steps = {s: sorted({r["step"] for r in rows if r["schedule"] == s}) for s in schedules}

    def domain_score(schedule: str, step: int, family: str) -> float:
        stat = CORRECT if family in STRUCTURED else diversity
        return _mean([value.get((schedule, step, t, stat), float("nan")) for t, f in families.items() if f == family])

    def per_prompt(schedule: str) -> Any:
        """(task, step) -> the per-prompt values of R (domain_score's statistic) in that cell, or None."""
        def at(task: str, step: int) -> dict[str, float] | None:
            cell = _cell_at(placed, schedule, step, task)
            return cell.values.get(CORRECT if families[task] in STRUCTURED else diversity) if cell else None
        return at

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
                t["creativity_retention_interval"] = as_json(retention_interval(
                    per_prompt(sched), task, per[diversity][0][0], per[diversity][-1][0]))
            a["tasks"][task] = t
        schedule = next(s for s in manifest.schedules if s.name == sched)
        if len(schedule.stages) > 1:
            stages, warnings = stage_ends([(n, u, schedule.domains.get(n, [])) for n, u in schedule.stages], sched_steps)
            if len(stages) > 1:
                # the lambda is called inside backward_transfer, during this iteration
                bwt = backward_transfer(stages, lambda f, st: domain_score(sched, st, f))  # noqa: B023
                tasks_of = {f: [t for t, g in families.items() if g == f] for f in set(families.values())}
                a["backward_transfer"] = {**bwt, **as_json(bwt_interval(bwt, tasks_of, per_prompt(sched))),
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
             "diversity_choice": choice,
             "pareto": pareto, "comparisons": comparisons,
             "entropy_threshold": {"value": entropy_threshold, "relative": relative},
             "incomplete": [{"schedule": c.schedule, "step": c.step, "task": c.task, "state": c.state}
                            for c in scores.incomplete]}
    extras = read_extras(results)  # the probe and recommendation reports stored beside the cells
    for kind in ("probes", "recommendations"):  # a file that is JSON but not a report is named, not shown
        extras["unreadable"] += [r["file"] for r in extras[kind] if not usable(kind, finite(r))]
        board[kind] = [r for r in extras[kind] if r["file"] not in extras["unreadable"]]
    board["unreadable_reports"] = extras["unreadable"]
    out.mkdir(parents=True, exist_ok=True)
    _write_outputs(board, out)
    from .site import write_site

    write_site(board, placed, results, out, manifest.tasks)
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


_MD = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "\n": " "}


def _md(text: Any) -> str:
    """A table cell as text on GitHub: no markup, no column break."""
    return "".join(_MD.get(ch, ch) for ch in str(text))


def _md_value(cell: dict[str, Any]) -> str:
    if cell.get("never"):
        text = "none"
    elif cell.get("value") is None:
        return "n/a"
    else:
        v = cell["value"]
        text = str(v) if isinstance(v, int) else f"{v:.3f}"
    if cell.get("low") is not None and cell.get("high") is not None:
        text += f" [{cell['low']:.2f}, {cell['high']:.2f}]"
    if cell.get("best"):
        text = f"**{text}**"
    if cell.get("separated") is False:
        text += " †"
    return text


def markdown(board: dict[str, Any]) -> str:
    """The landing table (a row per schedule, the final values with their intervals and the trajectory
    analysis) and the plots as PNGs, for a README on GitHub."""
    from .extras_page import markdown as extras_markdown
    from .figures import figures
    from .landing import landing

    clean = finite(board)
    table = landing(clean)
    arrow = {1: " ↑", -1: " ↓", 0: ""}
    groups: list[tuple[str, list[dict[str, Any]]]] = []  # a column of the Markdown table: its header, its columns
    for c in table["columns"]:
        kind = c["key"].split(":")[0]
        if kind.startswith("law_"):
            if kind == "law_a":
                groups.append((f"{_md(c['task'])} law a / b / R²", []))
            groups[-1][1].append(c)
            continue
        stat = "entropy" if str(c["statistic"]).startswith("token_entropy") else c["statistic"]
        name = {"final": f"{_md(c['task'])} {_md(stat)}", "collapse": f"{_md(c['task'])} collapse step",
                "bwt": "BWT", "retention": f"{_md(c['task'])} retention"}[kind]
        groups.append((name + arrow[c["direction"]], [c]))
    lines = ["| schedule | final step | " + " | ".join(g for g, _ in groups) + " |", "|---|---:|" + "---:|" * len(groups)]
    for r in table["rows"]:
        cells = [" / ".join(_md_value(r["entries"][c["key"]]) for c in cols) for _, cols in groups]
        lines.append(f"| {_md(r['schedule'])} | {r['step']} | " + " | ".join(cells) + " |")
    choice = board.get("diversity_choice") or {}
    model = any(c["statistic"] == MODEL_ENTROPY for c in table["columns"])
    entropy = "the policy's (full vocabulary)" if model else "of the sampled distribution"
    lines += ["", f"Final checkpoints; [low, high]: the 95% interval over prompts (BWT: t on one task, else the paired "
              f"bootstrap; retention: the paired bootstrap; collapse step and law fit: none, not testable); **bold**: best in its column "
              f"(↑ higher / ↓ lower is better); †: the paired sign-flip test (two-sided 5%) does not separate it from "
              f"the reference schedule {_md(table['reference'])}, or cannot test it. Entropy: {entropy}, in nats per token; "
              f"collapse step: none = never below the threshold; law: R = -a exp(H) + b. Diversity statistic: "
              f"{board['diversity']} ({choice.get('reason', '')}).", ""]
    for fig in figures(clean):
        lines.append(f"![{_md(fig['title'])}]({fig['id']}.png)")
        lines.append("")
    return "\n".join(lines + extras_markdown(clean, _md))
