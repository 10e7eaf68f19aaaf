"""The static site: ``index.html`` that opens from disk with no network (plotly's JavaScript shipped
beside it as ``plotly.min.js``), sortable tables, interactive plots, PNGs of the main plots, and a
sample viewer. Model outputs are untrusted text: all data reaches the page as JSON inside
``<script type="application/json">`` (with ``<`` escaped, so ``</script>`` in a generation cannot end
it) and is put on the page with ``textContent``, never as HTML: a generation holding ``<script>`` or
``</textarea>`` shows as text and runs nothing.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from creval.frames import table_to_generations, table_to_grades
from creval.jsonsafe import finite
from creval.store import Store

MAX_PROMPTS = 12  # per task in the sample viewer, to keep the page small
MAX_CHARS = 1500


def _safe_json(data: Any) -> str:
    text = json.dumps(data, allow_nan=False, default=lambda x: None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def samples(placed: list, results: Path) -> dict:
    """schedule -> task -> prompt -> step -> [{text, correct, entropy}]."""
    store = Store(results)
    out: dict = {}
    for p, cell in placed:
        key = p.key
        table, _ = store.read_generations(key)
        gens = table_to_generations(table)
        current = store.current_grades(key)  # the current grader's, not the first by file name
        grades = table_to_grades(current) if current is not None else {}
        for pid in sorted(gens)[:MAX_PROMPTS]:
            shown = []
            for j, g in enumerate(gens[pid]):
                grade = grades.get(pid, [None] * len(gens[pid]))[j]
                entropy = sum(g.token_entropy) / len(g.token_entropy) if g.token_entropy else None
                shown.append({"text": g.text[:MAX_CHARS], "correct": getattr(grade, "correct", None), "entropy": entropy})
            out.setdefault(p.schedule, {}).setdefault(cell.task, {}).setdefault(pid, {})[str(p.step)] = shown
    return out


def _figures(board: dict) -> list[dict]:
    figs = []
    rows = board["rows"]
    for stat in ("token_entropy", "pass@1", "distinct-2"):
        traces = []
        for s in board["schedules"]:
            for task in sorted({r["task"] for r in rows if r["statistic"] == stat}):
                pts = [(r["step"], r["mean"]) for r in rows if r["schedule"] == s and r["task"] == task and r["statistic"] == stat]
                if pts:
                    traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{s} / {task}",
                                   "x": [p[0] for p in pts], "y": [p[1] for p in pts]})
        if traces:
            figs.append({"id": f"plot-{stat}", "title": f"{stat} vs step", "data": traces,
                         "layout": {"xaxis": {"title": "step"}, "yaxis": {"title": stat}}})
    pareto = board["pareto"]
    if pareto:
        front = sorted((p for p in pareto if p["on_front"]), key=lambda p: p["correctness"] or 0)
        figs.append({"id": "plot-pareto", "title": "correctness vs creativity (Pareto front)", "data": [
            {"type": "scatter", "mode": "markers", "name": "checkpoints", "x": [p["correctness"] for p in pareto],
             "y": [p["diversity"] for p in pareto], "text": [f"{p['schedule']} step {p['step']}" for p in pareto]},
            {"type": "scatter", "mode": "lines", "name": "Pareto front", "x": [p["correctness"] for p in front],
             "y": [p["diversity"] for p in front]}],
            "layout": {"xaxis": {"title": "structured pass@1"}, "yaxis": {"title": "writing distinct-2"}}})
    fits = []
    for s, a in board["analysis"].items():
        for task, t in a["tasks"].items():
            law = t.get("entropy_law") or {}
            if "a" in law:
                ent = [r["mean"] for r in rows if r["schedule"] == s and r["task"] == task and r["statistic"] == "token_entropy"]
                acc = [r["mean"] for r in rows if r["schedule"] == s and r["task"] == task and r["statistic"] == "pass@1"]
                hs = sorted(h for h in ent if h is not None and math.isfinite(h))
                fits.append({"type": "scatter", "mode": "markers", "name": f"{s} / {task}", "x": ent, "y": acc})
                fits.append({"type": "scatter", "mode": "lines", "name": f"fit {s} / {task}", "x": hs,
                             "y": [law["b"] - law["a"] * math.exp(h) for h in hs]})
    if fits:
        figs.append({"id": "plot-law", "title": "entropy-performance law R = -a exp(H) + b", "data": fits,
                     "layout": {"xaxis": {"title": "token entropy"}, "yaxis": {"title": "pass@1"}}})
    return figs


def _pngs(figs: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for fig in figs:
        plt.figure(figsize=(6, 4))
        for trace in fig["data"]:
            xs = [x if x is not None else math.nan for x in trace["x"]]
            ys = [y if y is not None else math.nan for y in trace["y"]]
            plt.plot(xs, ys, "o" if trace["mode"] == "markers" else "-o", label=trace["name"], markersize=4)
        plt.title(fig["title"])
        plt.xlabel(fig["layout"]["xaxis"]["title"])
        plt.ylabel(fig["layout"]["yaxis"]["title"])
        plt.legend(fontsize=6)
        plt.tight_layout()
        plt.savefig(out / f"{fig['id']}.png", dpi=100)
        plt.close()


def write_site(board: dict, placed: list, results: Path, out: Path) -> None:
    import plotly.offline

    (out / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    figs = _figures(finite(board))
    _pngs(figs, out)
    data = {"board": finite({k: board[k] for k in ("schedules", "rows", "analysis", "pareto", "comparisons")}),
            "figures": figs, "samples": finite(samples(placed, results))}
    html = PAGE.replace("__DATA__", _safe_json(data))
    (out / "index.html").write_text(html, encoding="utf-8")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>creval leaderboard</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px} table{border-collapse:collapse;font-size:13px;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 6px} th{background:#f3f3f3;cursor:pointer} .plot{width:100%;height:380px}
pre{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:6px;margin:4px 0;max-height:12em;overflow:auto}
.col{display:inline-block;vertical-align:top;width:32%;margin-right:1%} .ok{color:#080} .bad{color:#a00}
</style><script src="plotly.min.js"></script></head><body>
<h1>creval leaderboard</h1>
<h2>Final checkpoints</h2><table id="final" class="sortable"></table>
<h2>Paired comparisons (final checkpoints: difference, 95% t interval, sign-flip test)</h2><table id="comparisons" class="sortable"></table>
<h2>Plots</h2><div id="plots"></div>
<h2>All values</h2><table id="rows" class="sortable"></table>
<h2>Samples</h2>
<label>schedule <select id="s-schedule"></select></label> <label>task <select id="s-task"></select></label>
<label>prompt <select id="s-prompt"></select></label><div id="s-view"></div>
<script type="application/json" id="data">__DATA__</script>
<script>
const DATA = JSON.parse(document.getElementById('data').textContent);
const fmt = v => (v === null || v === undefined) ? 'n/a' : (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
function table(el, columns, rows) {
  const head = document.createElement('tr');
  columns.forEach((c, i) => { const th = document.createElement('th'); th.textContent = c; th.dataset.col = i; head.appendChild(th); });
  el.appendChild(head);
  rows.forEach(r => { const tr = document.createElement('tr'); r.forEach(v => { const td = document.createElement('td'); td.textContent = fmt(v); td.dataset.v = (typeof v === 'number') ? v : ''; tr.appendChild(td); }); el.appendChild(tr); });
  head.addEventListener('click', ev => {
    const col = Number(ev.target.dataset.col); const asc = el.dataset.sort !== 'asc' + col; el.dataset.sort = asc ? 'asc' + col : 'desc' + col;
    const body = Array.from(el.querySelectorAll('tr')).slice(1);
    body.sort((a, b) => { const x = a.children[col], y = b.children[col];
      const nx = x.dataset.v === '' ? NaN : Number(x.dataset.v), ny = y.dataset.v === '' ? NaN : Number(y.dataset.v);
      const cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.textContent.localeCompare(y.textContent); return asc ? cmp : -cmp; });
    body.forEach(tr => el.appendChild(tr));
  });
}
const B = DATA.board;
const last = {}; B.rows.forEach(r => { last[r.schedule] = Math.max(last[r.schedule] ?? -1, r.step); });
const finalRows = B.rows.filter(r => r.step === last[r.schedule]);
table(document.getElementById('final'), ['schedule', 'step', 'task', 'statistic', 'mean', 'ci low', 'ci high'],
      finalRows.map(r => [r.schedule, r.step, r.task, r.statistic, r.mean, r.ci_low, r.ci_high]));
table(document.getElementById('comparisons'), ['schedule', 'vs', 'task', 'statistic', 'difference', 'ci low', 'ci high', 'prompts', 'separated from 0'],
      B.comparisons.map(c => [c.schedule, c.baseline, c.task, c.statistic, c.difference, c.ci_low, c.ci_high, c.prompts,
                              c.testable ? (c.separated ? 'yes' : 'no') : 'not testable: ' + c.note]));
table(document.getElementById('rows'), ['schedule', 'step', 'stage', 'task', 'statistic', 'mean', 'ci low', 'ci high', 'prompts'],
      B.rows.map(r => [r.schedule, r.step, r.stage, r.task, r.statistic, r.mean, r.ci_low, r.ci_high, r.n_prompts]));
const plots = document.getElementById('plots');
DATA.figures.forEach(f => { const h = document.createElement('h3'); h.textContent = f.title; plots.appendChild(h);
  const d = document.createElement('div'); d.id = f.id; d.className = 'plot'; plots.appendChild(d);
  Plotly.newPlot(d, f.data, Object.assign({margin: {t: 10}}, f.layout), {staticPlot: false}); });
const S = DATA.samples, sel = id => document.getElementById(id);
function fill(el, values) { el.replaceChildren(...values.map(v => { const o = document.createElement('option'); o.value = v; o.textContent = v; return o; })); }
function show() {
  const view = sel('s-view'); view.replaceChildren();
  const byStep = ((S[sel('s-schedule').value] || {})[sel('s-task').value] || {})[sel('s-prompt').value] || {};
  Object.keys(byStep).sort((a, b) => a - b).forEach(step => {
    const col = document.createElement('div'); col.className = 'col'; const h = document.createElement('h4'); h.textContent = 'step ' + step; col.appendChild(h);
    byStep[step].forEach(s => { const m = document.createElement('div'); m.className = s.correct === true ? 'ok' : (s.correct === false ? 'bad' : '');
      m.textContent = (s.correct === null ? 'ungraded' : (s.correct ? 'correct' : 'wrong')) + ', entropy ' + fmt(s.entropy);
      const pre = document.createElement('pre'); pre.textContent = s.text; col.appendChild(m); col.appendChild(pre); });
    view.appendChild(col); });
}
function onSchedule() { fill(sel('s-task'), Object.keys(S[sel('s-schedule').value] || {})); onTask(); }
function onTask() { fill(sel('s-prompt'), Object.keys((S[sel('s-schedule').value] || {})[sel('s-task').value] || {})); show(); }
fill(sel('s-schedule'), Object.keys(S)); sel('s-schedule').onchange = onSchedule; sel('s-task').onchange = onTask; sel('s-prompt').onchange = show; onSchedule();
</script></body></html>
"""
