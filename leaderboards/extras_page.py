"""The probe and recommendation reports of ``extras.py`` as the site's Probes tab and a section of
leaderboard.md: per weight-perturbation probe, its degradation curves (``points[].change`` against sigma,
log x, interval bands, each checkpoint in its schedule's colour where it is named for one), its areas
and its comparisons; per recommendation, the recommended order, every order's predicted finals and
margin, and the evidence. Tables reach the page as columns (a label and a kind: ``name`` with a colour
swatch, ``text``, ``num``, ``ci`` = [mean, low, high]; a string in a number column is shown as it is) and
rows, all shown as text."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .figures import PALETTE, _num, _unit, to_plotly

HOW = ("`creval probe perturb` writes RESULTS/probes/perturb-*.json (docs/probes.md); `creval recommend` writes "
       "RESULTS/recommendations/<manifest>.json (docs/recommend.md); build the leaderboard again to show them.")


def names(board: dict[str, Any]) -> list[str]:
    """The board's schedules, then the probed checkpoints named for no schedule: one colour each, in that order."""
    out = list(board["schedules"])
    for report in board.get("probes", []):
        out += [m["model"] for m in report.get("models", []) if m["model"] not in out]
    return out


def _ylabel(stat: str) -> str:
    return "change in agreement (share identical)" if stat == "agreement" else f"change in {_unit(stat)}"


def _bound(x: dict[str, Any], key: str) -> float | None:
    """An interval bound for the band; where every prompt changed alike (no interval), the mean: the band
    narrows to the line there rather than skipping the point."""
    return _num(x.get(key)) if _num(x.get(key)) is not None else _num(x.get("mean"))


def probe_figure(report: dict[str, Any], i: int) -> dict[str, Any]:
    """A panel per (task, statistic): the change from the unperturbed checkpoint against sigma, a line
    per checkpoint."""
    panels = []
    for task in report.get("tasks", []):
        for stat in report.get("statistics", []):
            series = []
            for m in report.get("models", []):
                curve = m.get("curves", {}).get(task, {}).get(stat)
                if curve:
                    pts = curve["points"]
                    series.append({"schedule": m["model"], "style": "line", "x": [p["sigma"] for p in pts],
                                   "y": [_num(p["change"]["mean"]) for p in pts],
                                   "lo": [_bound(p["change"], "low") for p in pts],
                                   "hi": [_bound(p["change"], "high") for p in pts],
                                   "text": [f"sigma {p['sigma']:g}" for p in pts]})
            if series:
                panels.append({"title": f"{task}: {stat}", "ylabel": _ylabel(stat), "series": series})
    seeds = report.get("seeds", [])
    return {"id": f"plot-probe-{i}", "title": f"Degradation curves: {', '.join(report.get('tasks', []))}",
            "xlabel": "sigma (noise sd / tensor RMS, log)", "xlog": True, "panels": panels,
            "xticks": report.get("sigmas", []),
            "empty": None if panels else "the report has no curve",
            "caption": f"Mean over prompts of the change from the unperturbed checkpoint (each prompt averaged over "
                       f"{len(seeds)} noise seed{'s' if len(seeds) != 1 else ''}); shaded: its 95% interval (none where "
                       f"every prompt changed alike). Layers "
                       f"perturbed: {report.get('layers', 'all')}; agreement: the share of samples identical to the "
                       f"unperturbed checkpoint's sample of the same seed."}


def _ci(x: dict[str, Any] | None) -> list[Any]:
    x = x or {}
    return [_num(x.get("mean")), _num(x.get("low")), _num(x.get("high"))]


def _table(columns: list[tuple[str, str]], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": [{"label": label, "kind": kind} for label, kind in columns], "rows": rows}


def _probe(report: dict[str, Any], i: int, board_names: dict[str, Any]) -> dict[str, Any]:
    areas = [[m["model"], task, stat, _ci(c.get("unperturbed")), _ci(c.get("area")), (c.get("area") or {}).get("prompts")]
             for m in report.get("models", []) for task, stats in m.get("curves", {}).items() for stat, c in stats.items()]
    comparisons = [[r["candidate"], r["baseline"], r["task"], r["statistic"], [_num(r["difference"]), _num(r["low"]),
                    _num(r["high"])], _num(r.get("p_two_sided_holm")) if r.get("testable") else None, r["prompts"],
                    "yes" if r.get("testable") else f"no: {r.get('reason', '')}"] for r in report.get("comparisons", [])]
    return {"file": Path(str(report.get("file", ""))).name, "sigmas": report.get("sigmas", []),
            "seeds": report.get("seeds", []), "layers": report.get("layers", "all"),
            "figure": to_plotly(board_names, probe_figure(report, i)),
            "areas": _table([("checkpoint", "name"), ("task", "text"), ("statistic", "text"), ("unperturbed", "ci"),
                             ("area: mean change over the grid", "ci"), ("prompts", "num")], areas),
            "comparisons": _table([("checkpoint", "name"), ("vs", "name"), ("task", "text"), ("statistic", "text"),
                                   ("area difference", "ci"), ("p (two-sided, Holm)", "num"), ("prompts", "num"),
                                   ("testable", "text")], comparisons)}


def verdict(report: dict[str, Any]) -> str:
    """Whether the pilot decides: the recommended order separated from every other order, or not."""
    if "separated" not in report:  # a report written before the margins were adjusted for the pick
        return "Written by an older creval: its margins are not adjusted for picking the best order; run `creval recommend` again."
    if report["separated"]:
        pairs = report["pairs_of_orders"]
        how = "two-sided, one pair of orders" if pairs == 1 else f"two-sided, Bonferroni over {pairs} pairs of orders"
        return f"Separated from every other order (p < 0.05, {how})."
    others = "; ".join(" → ".join(o) for o in report.get("not_separated_from", []))
    return f"Not separated from: {others}. The pilot does not decide between them (more prompts or pilot seeds would)."


def _recommendation(report: dict[str, Any]) -> dict[str, Any]:
    tasks = sorted({t for o in report.get("orders", []) for t in o.get("tasks", {})})
    orders = []
    for o in report.get("orders", []):
        margin = o.get("recommended_minus_this")
        orders.append([" → ".join(o["order"]), _num(o.get("objective")), *[_ci(o["tasks"].get(t)) for t in tasks],
                       [_num(margin["difference"]), _num(margin["low"]), _num(margin["high"])] if margin else "—",
                       (_num(margin["p"]) if margin["testable"] else f"not testable: {margin['reason']}") if margin
                       else "recommended"])
    evidence = [[r["trained"], r["task"], r["family"], "yes" if r["trains_task"] else "no", _num(r["start"]),
                 _num(r["end"]), [_num(r["change"]), _num(r["low"]), _num(r["high"])],
                 _num(r["p_lower"]) if r["testable"] else None, _num(r["p_higher"]) if r["testable"] else None,
                 r["prompts"], "" if r["testable"] else r.get("reason", "")] for r in report.get("evidence", [])]
    return {"file": Path(str(report.get("file", ""))).name, "manifest": Path(str(report.get("manifest", ""))).name,
            "recommended": report.get("recommended", []), "statistics": report.get("statistics", {}),
            "domains": report.get("domains", {}), "pilots": report.get("pilots", {}),
            "forgetting": {d: _num(v) for d, v in report.get("forgetting", {}).items()},
            "excluded": report.get("excluded", {}), "verdict": verdict(report),
            "orders": _table([("order", "text"), ("objective", "num"), *[(f"{t} predicted final", "ci") for t in tasks],
                              ("recommended − this", "ci"), ("p (two-sided, Bonferroni)", "num")], orders),
            "evidence": _table([("trained", "text"), ("task", "text"), ("family", "text"), ("trains it", "text"),
                                ("start", "num"), ("end", "num"), ("change", "ci"), ("p lower", "num"),
                                ("p higher", "num"), ("prompts", "num"), ("note", "text")], evidence)}


def usable(kind: str, report: dict[str, Any]) -> bool:
    """Whether a report parsed from JSON has the shape of its schema (the site and markdown can show it)."""
    try:
        if kind == "probes":
            _probe(report, 0, {"schedules": names({"schedules": [], "probes": [report]})})
        else:
            _recommendation(report)
        markdown({"probes": [report]} if kind == "probes" else {"recommendations": [report]}, str)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return False
    return True


def page(board: dict[str, Any]) -> dict[str, Any]:
    """What the Probes tab loads (``extras.js``)."""
    every = names(board)
    colours = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(every)}
    pseudo = {"schedules": every}
    return {"probes": [_probe(r, i, pseudo) for i, r in enumerate(board.get("probes", []))],
            "recommendations": [_recommendation(r) for r in board.get("recommendations", [])],
            "unreadable": [Path(p).name for p in board.get("unreadable_reports", [])], "colours": colours}


def _f(v: Any, digits: int = 3) -> str:
    return "n/a" if _num(v) is None else f"{v:.{digits}f}"


def _fci(mean: Any, low: Any, high: Any) -> str:
    """A value and its interval, where it has one."""
    interval = f" [{_f(low, 2)}, {_f(high, 2)}]" if _num(low) is not None and _num(high) is not None else ""
    return _f(mean) + interval


def markdown(board: dict[str, Any], md: Any) -> list[str]:
    """The section of leaderboard.md (``md`` escapes a table cell); nothing when there are no reports."""
    probes, recs = board.get("probes", []), board.get("recommendations", [])
    if not probes and not recs:
        return []
    lines = ["## Probes and recommendations", ""]
    for r in probes:
        lines += [f"Weight perturbation ({md(Path(str(r.get('file', ''))).name)}): sigma "
                  f"{', '.join(f'{s:g}' for s in r.get('sigmas', []))}, {len(r.get('seeds', []))} seed(s), layers "
                  f"{md(r.get('layers', 'all'))}. Area: the mean change from the unperturbed checkpoint over the sigma "
                  f"grid, [95% interval]; the plots are on the site's Probes tab.", "",
                  "| checkpoint | task | statistic | area |", "|---|---|---|---:|"]
        for m in r.get("models", []):
            for task, stats in m.get("curves", {}).items():
                for stat, c in stats.items():
                    a = c.get("area") or {}
                    lines.append(f"| {md(m['model'])} | {md(task)} | {md(stat)} | "
                                 f"{_fci(a.get('mean'), a.get('low'), a.get('high'))} |")
        if r.get("comparisons"):
            lines += ["", "| checkpoint − first | task | statistic | area difference | p (two-sided, Holm) |",
                      "|---|---|---|---:|---:|"]
            for c in r["comparisons"]:
                p = _f(c.get("p_two_sided_holm")) if c.get("testable") else "not testable"
                lines.append(f"| {md(c['candidate'])} − {md(c['baseline'])} | {md(c['task'])} | {md(c['statistic'])} | "
                             f"{_fci(c['difference'], c['low'], c['high'])} | {p} |")
        lines.append("")
    for r in recs:
        lines += [f"Recommended schedule order ({md(Path(str(r.get('manifest', ''))).name)}): "
                  f"**{' → '.join(md(d) for d in r.get('recommended', []))}**. {md(verdict(r))}", "",
                  "| order | objective | recommended − this | p (two-sided, Bonferroni) |", "|---|---:|---:|---:|"]
        for o in r.get("orders", []):
            m = o.get("recommended_minus_this")
            margin = _fci(m["difference"], m["low"], m["high"]) if m else "recommended"
            p = (_f(m["p"]) if m["testable"] else "not testable") if m else ""
            lines.append(f"| {' → '.join(md(d) for d in o['order'])} | {_f(o.get('objective'))} | {margin} | {p} |")
        lines.append("")
    return lines
