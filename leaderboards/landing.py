"""The landing table: one row per schedule answering "which schedule keeps correctness without losing
creativity?". Columns: the final structured correctness (pass@1 of each math/code task), the final
writing diversity (the board's diversity statistic), the final policy entropy and the collapse step of
each task, backward transfer, the entropy-law fit (a, b, R²) of each structured task and the creativity
retention of each writing task. Final values, BWT and retention carry their 95% interval
(``creval.stats``; the derived ones from ``derived.py``); final values are
greyed where the paired test at the final checkpoints does not separate them from the reference (the
first schedule); the best value of every column with a direction of better is marked.
"""
from __future__ import annotations

import math
from typing import Any

from creval.stats import statistic_info

STRUCTURED = ("math", "code")
CORRECT = "pass@1"

# direction of "better" of the derived columns: +1 higher, -1 lower, 0 neither
_DERIVED = {"collapse": 1, "bwt": 1, "law_a": 0, "law_b": 0, "law_r2": 0, "retention": 1}


BWT_INTERVAL = ("95% interval over prompts: Student's t on the per-prompt mean of the terms' changes where all terms are "
                "on one task, else the paired bootstrap over prompts")
RETENTION_INTERVAL = "95% interval over prompts: the paired bootstrap (a ratio of two means over the same prompts)"
NO_INTERVAL = {
    "collapse": "no interval (not testable: the first checkpoint of one training trajectory whose entropy crosses a "
                "threshold, a discrete step on a coarse grid; resampling prompts cannot stand in for another training run)",
    "law": "no interval (not testable: a fit to the few checkpoints of one trajectory; R² describes how well the line "
           "fits those points, which are not a sample of independent prompts)",
}


def _finite(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def columns(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The columns for the tasks of the board: key, group, task, label, unit, direction, interval."""
    div = board["diversity"]
    families = {r["task"]: r["family"] for r in board["rows"]}
    structured = [t for t, f in families.items() if f in STRUCTURED]
    writing = [t for t, f in families.items() if f == "writing"]
    entropy = {t: next((a["tasks"][t]["entropy_statistic"] for a in board["analysis"].values()
                        if "entropy_statistic" in a["tasks"].get(t, {})), None) for t in families}
    cols: list[dict[str, Any]] = []

    def add(key: str, group: str, task: str | None, direction: int, unit: str, *, statistic: str | None = None,
            interval: str = "95% interval over prompts", label: str | None = None) -> None:
        """``group``: the header over several columns; ``label``: the column's own header (its task)."""
        cols.append({"key": key, "group": group, "task": task, "label": label or task or "", "direction": direction,
                     "unit": unit, "statistic": statistic, "interval": interval})

    for t in structured:
        add(f"final:{t}:{CORRECT}", "final correctness (pass@1)", t, 1, "share of samples correct", statistic=CORRECT)
    for t in writing:
        add(f"final:{t}:{div}", f"final writing diversity ({div})", t, statistic_info(div).direction, "share",
            statistic=div)
    for t in families:
        if entropy[t]:
            add(f"final:{t}:{entropy[t]}", "final entropy (nats)", t, 0, "nats per token", statistic=entropy[t])
    for t in families:
        if entropy[t]:
            add(f"collapse:{t}", "collapse step", t, 1, "step; none: never below the threshold (best)",
                interval=NO_INTERVAL["collapse"])
    if any("backward_transfer" in a for a in board["analysis"].values()):
        add("bwt", "backward transfer", None, 1, "change of an earlier stage's score by the end",
            interval=BWT_INTERVAL, label="BWT")
    for t in structured:
        for part, label in (("a", "a"), ("b", "b"), ("r2", "R²")):
            add(f"law_{part}:{t}", f"entropy law fit on {t}", t, 0, "R = -a exp(H) + b",
                interval=NO_INTERVAL["law"], label=label)
    for t in writing:
        add(f"retention:{t}", "creativity retention", t, 1, f"{div} at the end / at the start",
            interval=RETENTION_INTERVAL)
    return cols


def _interval(iv: dict[str, Any]) -> dict[str, Any]:
    """A derived value's interval as a landing entry holds it: low/high (as the final values'), its method."""
    return {"low": _finite(iv.get("ci_low")), "high": _finite(iv.get("ci_high")), "method": iv.get("method")}


def _why_none(iv: dict[str, Any]) -> str | None:
    """Why a derived value has no interval (the method's text), or None where it has one."""
    method = iv.get("method")
    return None if method is None or _finite(iv.get("ci_low")) is not None else str(method)


def _cell(board: dict[str, Any], schedule: str, col: dict[str, Any], last: int | None) -> dict[str, Any]:
    kind = col["key"].partition(":")[0]
    a = board["analysis"].get(schedule, {})
    t = a.get("tasks", {}).get(col["task"], {}) if col["task"] else {}
    if kind == "final":
        row = next((r for r in board["rows"] if r["schedule"] == schedule and r["step"] == last
                    and r["task"] == col["task"] and r["statistic"] == col["statistic"]), None)
        if row is None:
            return {"value": None}
        out = {"value": _finite(row["mean"]), "low": _finite(row["ci_low"]), "high": _finite(row["ci_high"]),
               "step": last, "task": col["task"]}
        if schedule == board["schedules"][0]:
            out["reference"] = True
        else:
            comp = next((c for c in board["comparisons"] if c["schedule"] == schedule and c["task"] == col["task"]
                         and c["statistic"] == col["statistic"]), None)
            if comp is not None:
                out["separated"] = bool(comp["separated"])
                out["p"] = _finite(comp["p"])
                out["difference"] = _finite(comp["difference"])
        return out
    if kind == "collapse":
        if "entropy_statistic" not in t:
            return {"value": None}
        step = t.get("collapse_step")
        return {"value": step, "never": step is None}
    if kind == "bwt":
        bwt = a.get("backward_transfer")
        if bwt is None:
            return {"value": None, "note": "one stage: no backward transfer"}
        return {"value": _finite(bwt.get("value")), **_interval(bwt), "note": bwt.get("refused") or _why_none(bwt)}
    if kind.startswith("law_"):
        law = t.get("entropy_law") or {}
        if "refused" in law:
            return {"value": None, "note": "fit refused: " + law["refused"]}
        return {"value": _finite(law.get(kind[4:])), "points": law.get("points")}
    if kind == "retention":
        iv = t.get("creativity_retention_interval") or {}
        return {"value": _finite(t.get("creativity_retention")), **_interval(iv), "note": _why_none(iv)}
    return {"value": None}


def landing(board: dict[str, Any]) -> dict[str, Any]:
    """{"columns": [...], "rows": [{"schedule", "step", "entries": {key: entry}}], "reference": name}; a cell:
    value, low/high (interval), separated (vs the reference) or reference, best, note."""
    cols = columns(board)
    rows = []
    for s in board["schedules"]:
        steps = board["analysis"].get(s, {}).get("steps") or [None]
        rows.append({"schedule": s, "step": steps[-1], "entries": {c["key"]: _cell(board, s, c, steps[-1]) for c in cols}})
    for c in cols:
        if not c["direction"]:
            continue
        cells = [r["entries"][c["key"]] for r in rows]
        # a collapse that never happened is the best outcome
        score = [math.inf if x.get("never") else x["value"] for x in cells]
        finite = [v * c["direction"] for v in score if v is not None]
        if len(finite) > 1 and len(set(finite)) > 1:
            top = max(finite)
            for x, v in zip(cells, score):
                if v is not None and v * c["direction"] == top:
                    x["best"] = True
    return {"columns": cols, "rows": rows, "reference": board["schedules"][0] if board["schedules"] else None}
