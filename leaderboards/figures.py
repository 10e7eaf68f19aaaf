"""The leaderboard's plots, described once (``figures``) and drawn twice: interactive (``to_plotly``, for
the site) and as PNGs (``pngs.py``, for leaderboard.md). Small multiples (a panel per task), a fixed
colour per schedule in every plot (Okabe-Ito, safe for colour-blind readers), 95% interval bands, the
entropy-law fit in its points' colour, and a reason in place of an empty plot.
"""
from __future__ import annotations

import html
import math
from typing import Any

# Okabe & Ito (2008), black last-but-one and yellow last: low contrast on white
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
DASHES = ("solid", "dot", "dash", "dashdot")
STRUCTURED = ("math", "code")
FRONT = "#444444"


def colour(board: dict[str, Any], schedule: str) -> str:
    return PALETTE[board["schedules"].index(schedule) % len(PALETTE)]


def dash(board: dict[str, Any], schedule: str) -> str:
    """Line style: solid for the first eight schedules, then dotted, ... (the palette repeats)."""
    return DASHES[board["schedules"].index(schedule) // len(PALETTE) % len(DASHES)]


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def _unit(stat: str) -> str:
    if stat.startswith("token_entropy_model"):
        return "policy entropy (nats per token)"
    if stat.startswith("token_entropy"):
        return "sampled entropy (nats per token)"
    if stat.startswith("pass@"):
        return f"{stat} (share of samples correct)"
    if stat.startswith("distinct-"):
        return f"{stat} (unique / total n-grams)"
    return stat


def _trajectory(board: dict[str, Any], fid: str, title: str, tasks: list[tuple[str, str]], why: str) -> dict[str, Any]:
    """A panel per (task, statistic): mean per checkpoint with its interval band, a line per schedule."""
    panels = []
    for task, stat in tasks:
        series = []
        for s in board["schedules"]:
            pts = [r for r in board["rows"] if r["schedule"] == s and r["task"] == task and r["statistic"] == stat]
            if pts:
                series.append({"schedule": s, "style": "line", "x": [r["step"] for r in pts],
                               "y": [_num(r["mean"]) for r in pts], "lo": [_num(r["ci_low"]) for r in pts],
                               "hi": [_num(r["ci_high"]) for r in pts], "text": [f"step {r['step']}" for r in pts]})
        panels.append({"title": task, "ylabel": _unit(stat), "series": series})
    empty = None if _has_points(panels) else why
    return {"id": fid, "title": title, "xlabel": "training step", "panels": panels, "empty": empty,
            "caption": "Mean over prompts at each evaluated checkpoint; shaded: its 95% interval. A panel per task."}


def _has_points(panels: list[dict]) -> bool:
    return any(y is not None for p in panels for s in p["series"] for y in s["y"])


def figures(board: dict[str, Any]) -> list[dict[str, Any]]:
    div = board["diversity"]
    rows = board["rows"]
    families = {r["task"]: r["family"] for r in rows}
    structured = [t for t, f in families.items() if f in STRUCTURED]
    writing = [t for t, f in families.items() if f == "writing"]
    entropy = {}
    for t in families:
        entropy[t] = next((a["tasks"][t]["entropy_statistic"] for a in board["analysis"].values()
                           if "entropy_statistic" in a["tasks"].get(t, {})), None)
    choice = board.get("diversity_choice", {})
    figs = []
    if any(entropy.values()):
        figs.append(_trajectory(board, "plot-entropy", "Policy entropy along training",
                                [(t, e) for t, e in entropy.items() if e], "no entropy was recorded"))
    if structured:
        figs.append(_trajectory(board, "plot-correctness", "Structured correctness along training",
                                [(t, "pass@1") for t in structured], "no structured task has pass@1"))
    if writing:
        hint = "; choose another with --diversity" if choice.get("requested") != "auto" else ""
        figs.append(_trajectory(board, "plot-diversity", f"Writing diversity ({div}) along training",
                                [(t, div) for t in writing],
                                f"{div} is undefined (no finite value) at every checkpoint of {', '.join(writing)}{hint}"))
    figs.append(_law(board, structured, entropy))
    figs.append(_pareto(board))
    return figs


def _law(board: dict[str, Any], structured: list[str], entropy: dict[str, str | None]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    refused: list[str] = []
    for task in structured:
        series: list[dict[str, Any]] = []
        for s in board["schedules"]:
            t = board["analysis"].get(s, {}).get("tasks", {}).get(task, {})
            law = t.get("entropy_law") or {}
            if "refused" in law:
                refused.append(f"{s} / {task}: {law['refused']}")
            stat = t.get("entropy_statistic") or entropy[task]
            by_step = {r["step"]: r["mean"] for r in board["rows"] if r["schedule"] == s and r["task"] == task
                       and r["statistic"] == stat}
            acc = {r["step"]: r["mean"] for r in board["rows"] if r["schedule"] == s and r["task"] == task
                   and r["statistic"] == "pass@1"}
            steps = [st for st in sorted(by_step) if _num(by_step[st]) is not None and _num(acc.get(st)) is not None]
            if not steps:
                continue
            series.append({"schedule": s, "style": "points", "x": [by_step[st] for st in steps],
                           "y": [acc[st] for st in steps], "text": [f"step {st}" for st in steps]})
            if "a" in law:
                lo, hi = min(series[-1]["x"]), max(series[-1]["x"])
                hs = [lo + (hi - lo) * i / 24 for i in range(25)]
                series.append({"schedule": s, "style": "fit", "x": hs, "y": [law["b"] - law["a"] * math.exp(h) for h in hs],
                               "text": [f"fit R² {law['r2']:.2f}"] * len(hs)})
        panels.append({"title": task, "ylabel": "pass@1 (share of samples correct)", "series": series})
    xlabel = "policy entropy H (nats per token)"
    fits = any(s["style"] == "fit" for p in panels for s in p["series"])
    if fits:
        empty = None
    elif not structured:
        empty = "no structured task to fit"
    else:
        empty = "every fit was refused: " + "; ".join(refused) if refused else "no checkpoint to fit"
    caption = ("Points: checkpoints; dashed: the least-squares fit of R = -a exp(H) + b (Cui et al. 2025) over them, "
               "in the same colour. " + ("Refused fits: " + "; ".join(refused) if refused else ""))
    return {"id": "plot-law", "title": "Entropy-performance law", "xlabel": xlabel, "panels": panels, "empty": empty,
            "caption": caption.strip()}


def _pareto(board: dict[str, Any]) -> dict[str, Any]:
    div = board["diversity"]
    pts = [p for p in board["pareto"] if _num(p["correctness"]) is not None and _num(p["diversity"]) is not None]
    series = []
    for s in board["schedules"]:
        mine = [p for p in pts if p["schedule"] == s]
        if mine:
            series.append({"schedule": s, "style": "points", "x": [p["correctness"] for p in mine],
                           "y": [p["diversity"] for p in mine], "text": [f"step {p['step']}" for p in mine]})
    front = sorted((p for p in pts if p["on_front"]), key=lambda p: p["correctness"])
    if front:
        series.append({"schedule": None, "name": "Pareto front", "style": "front", "x": [p["correctness"] for p in front],
                       "y": [p["diversity"] for p in front], "text": [f"{p['schedule']} step {p['step']}" for p in front]})
    empty = None if pts else f"no checkpoint has both a structured pass@1 and a finite writing {div} (--diversity picks another)"
    return {"id": "plot-pareto", "title": "Correctness vs creativity", "xlabel": "structured pass@1 (mean over math and code)",
            "panels": [{"title": "every checkpoint", "ylabel": f"writing {_unit(div)}", "series": series}],
            "empty": empty, "caption": f"Each point a checkpoint; ringed and joined: the Pareto front (no other checkpoint "
            f"is better on both axes; {len(front)} point{'s' if len(front) != 1 else ''})."}


def esc(text: str) -> str:
    """plotly renders a pseudo-HTML subset in names, titles and hover text: escape it to show as text."""
    return html.escape(str(text), quote=False)


def to_plotly(board: dict[str, Any], fig: dict[str, Any]) -> dict[str, Any]:
    """The figure as plotly traces and layout (a panel per subplot, three to a row)."""
    panels = fig["panels"]
    n = max(1, len(panels))
    cols = min(n, 3)
    nrows = math.ceil(n / cols)
    # panels of one unit share the leftmost axis title; panels of different units each keep theirs, with
    # room between panels for it (at 800 px a title beside its ticks needs about 0.12 of the width)
    shared = len({p["ylabel"] for p in panels}) <= 1
    gap_x, gap_y = (0.07 if shared else 0.13), 0.16
    layout: dict[str, Any] = {"annotations": [], "showlegend": True, "height": 330 * nrows + 90,
                              "margin": {"t": 60, "b": 40, "l": 70, "r": 20},
                              "legend": {"orientation": "h", "x": 0, "y": -0.12 / nrows - 0.06, "yanchor": "top"}}
    data: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, panel in enumerate(panels):
        r, c = divmod(i, cols)
        k = "" if i == 0 else str(i + 1)
        x0 = c / cols + (gap_x / 2 if c else 0)
        x1 = (c + 1) / cols - (gap_x / 2 if c < cols - 1 else 0)
        y1 = 1 - r / nrows - (gap_y / 2 if r else 0)
        y0 = 1 - (r + 1) / nrows + (gap_y / 2 if r < nrows - 1 else 0)
        layout[f"xaxis{k}"] = {"domain": [x0, x1], "anchor": f"y{k}", "title": {"text": esc(fig["xlabel"])},
                               "zeroline": False, **_log_axis(fig)}
        titled = not shared or c == 0
        layout[f"yaxis{k}"] = {"domain": [y0, y1], "anchor": f"x{k}", "zeroline": False, "automargin": True,
                               "title": {"text": esc(panel["ylabel"]) if titled else ""}}
        layout["annotations"].append({"text": f"<b>{esc(panel['title'])}</b>", "x": (x0 + x1) / 2, "y": y1,
                                      "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                      "showarrow": False})
        for s in panel["series"]:
            data.extend(_traces(board, s, k, seen))
    return {"id": fig["id"], "title": fig["title"], "caption": fig["caption"], "empty": fig["empty"],
            "panels": len(panels), "data": data, "layout": layout}


def _log_axis(fig: dict[str, Any]) -> dict[str, Any]:
    """A log x axis (``xlog``) ticked at the values of ``xticks`` (plotly's default labels the minor decades)."""
    if not fig.get("xlog"):
        return {}
    ticks = fig.get("xticks") or []
    return {"type": "log", **({"tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]} if ticks else {})}


def _traces(board: dict[str, Any], s: dict[str, Any], k: str, seen: set[str]) -> list[dict[str, Any]]:
    axes = {"xaxis": f"x{k}", "yaxis": f"y{k}"}
    name = s.get("name") or s["schedule"]
    group = f"s{board['schedules'].index(s['schedule'])}" if s["schedule"] is not None else "front"
    col = colour(board, s["schedule"]) if s["schedule"] is not None else FRONT
    out = []
    if s["style"] == "line" and any(v is not None for v in s.get("lo", [])):
        band = [(x, lo, hi) for x, lo, hi in zip(s["x"], s["lo"], s["hi"]) if lo is not None and hi is not None]
        out.append({"type": "scatter", "mode": "lines", "x": [b[0] for b in band] + [b[0] for b in band[::-1]],
                    "y": [b[2] for b in band] + [b[1] for b in band[::-1]], "fill": "toself", "fillcolor": col + "26",
                    "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False, "legendgroup": group, **axes})
    trace: dict[str, Any] = {"type": "scatter", "x": s["x"], "y": s["y"], "name": esc(name), "legendgroup": group,
                             "text": [esc(t) for t in s["text"]], "showlegend": group not in seen, **axes}
    if s["style"] == "line":
        trace.update(mode="lines+markers", line={"color": col, "dash": dash(board, s["schedule"])}, marker={"size": 6})
    elif s["style"] == "points":
        trace.update(mode="markers", marker={"color": col, "size": 8})
    elif s["style"] == "fit":
        trace.update(mode="lines", line={"color": col, "dash": "dash", "width": 2}, showlegend=False, hoverinfo="text+name")
    else:  # the Pareto front: a line and rings, so a one-point front is visible
        trace.update(mode="lines+markers", line={"color": col, "width": 1.5},
                     marker={"size": 16, "symbol": "circle-open", "color": col, "line": {"width": 2}})
    seen.add(group)
    out.append(trace)
    return out
