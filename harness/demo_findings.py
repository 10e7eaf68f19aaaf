"""What ``creval demo`` found, as a few lines computed from its leaderboard (never canned text):
entropy falling while structured accuracy rises and the entropy-law fit, collapse steps, the
structured pressure reaching the creative task, the order of stages, backward transfer, the Pareto front."""
from __future__ import annotations

import math
from typing import Any

STRUCTURED = (("toy_math", "math"), ("toy_code", "code"))


def _f(v: float | None) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{v:.2f}"


def findings(board: dict[str, Any]) -> list[str]:
    value = {(r["schedule"], r["step"], r["task"], r["statistic"]): r["mean"] for r in board["rows"]}
    div = board["diversity"]
    out = []
    # the schedule that trains only structured tasks isolates their effect; else the first one that trains them
    sched = next((s for s in board["schedules"] if s.startswith("structured")), board["schedules"][0])
    a = board["analysis"][sched]
    first, last = a["steps"][0], a["steps"][-1]
    if "backward_transfer" in a and "stage_ends" in a["backward_transfer"]:
        last = a["backward_transfer"]["stage_ends"].get("structured", last)
    for task, label in STRUCTURED:
        h0, h1 = value.get((sched, first, task, "token_entropy")), value.get((sched, last, task, "token_entropy"))
        p0, p1 = value.get((sched, first, task, "pass@1")), value.get((sched, last, task, "pass@1"))
        if h0 is None or h1 is None:
            continue
        law = a["tasks"].get(task, {}).get("entropy_law", {})
        fit = f"entropy-law fit R² {law['r2']:.2f}" if "r2" in law else "entropy-law fit refused"
        drop = f" ({100 * (h1 - h0) / h0:+.0f}%)" if h0 else ""
        out.append(f"{sched}: {label} entropy {h0:.3f} → {h1:.3f} nats{drop} while pass@1 {_f(p0)} → {_f(p1)} "
                   f"(steps {first}-{last}); {fit}")
    collapses = [f"{s} {label} at step {c}" for s in board["schedules"] for task, label in STRUCTURED
                 if (c := board["analysis"][s]["tasks"].get(task, {}).get("collapse_step")) is not None]
    threshold = board["entropy_threshold"]
    rule = f"{100 * threshold['value']:.0f}% of step 0's" if threshold["relative"] else f"{threshold['value']} nats"
    out.append(f"collapse (entropy below {rule}): " + (", ".join(collapses) if collapses else "none"))
    c0, c1 = value.get((sched, first, "toy_creative", div)), value.get((sched, last, "toy_creative", div))
    e0, e1 = value.get((sched, first, "toy_creative", "token_entropy")), value.get((sched, last, "toy_creative", "token_entropy"))
    out.append(f"{sched} (no creative training): creative {div} {_f(c0)} → {_f(c1)}, creative entropy "
               f"{_f(e0)} → {_f(e1)}")
    ends = [(s, board["analysis"][s]["steps"][-1]) for s in board["schedules"]]
    out.append("at the end: " + "; ".join(
        f"{s} math pass@1 {_f(value.get((s, st, 'toy_math', 'pass@1')))}, code {_f(value.get((s, st, 'toy_code', 'pass@1')))}, "
        f"creative {div} {_f(value.get((s, st, 'toy_creative', div)))}" for s, st in ends))
    bwt = [f"{s} {board['analysis'][s]['backward_transfer']['value']:+.2f}" for s in board["schedules"]
           if "value" in board["analysis"][s].get("backward_transfer", {})]
    if bwt:
        out.append("backward transfer (change of an earlier stage's score by the end): " + ", ".join(bwt))
    front = [f"{p['schedule']}@{p['step']}" for p in board["pareto"] if p["on_front"]]
    out.append(f"Pareto front (structured pass@1 vs creative {div}): " + ", ".join(front))
    return out
