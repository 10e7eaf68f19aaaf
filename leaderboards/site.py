"""The static site: ``index.html`` that opens from disk with no network (plotly's JavaScript, the page's
script and style shipped beside it), tabs for the overview (the landing table), plots, comparisons, all
values, the sample viewer and the probe and recommendation reports (``extras_page.py``), and PNGs of the plots. Model outputs are untrusted text: all data reaches
the page as JSON inside ``<script type="application/json">`` (or ``values.js``, ``samples.js``,
``samples-<i>.js`` and ``extras.js``, loaded when their tab or schedule is opened) with ``<``, ``>`` and ``&`` escaped,
so ``</script>`` in a generation cannot end it, and is put on the page with ``textContent``, never as
HTML; names reaching plotly are HTML-escaped.
"""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from creval.errors import CrevalError
from creval.frames import table_to_generations, table_to_grades
from creval.jsonsafe import finite
from creval.store import Store

from .extras_page import page as extras_page
from .figures import colour, figures, to_plotly
from .landing import landing
from .pngs import pngs

MAX_PROMPTS = 12  # per task in the sample viewer, to keep the page small
MAX_CHARS = 1500


def _rounded(obj: Any) -> Any:
    """Six significant digits: the page shows three decimals, and the page's weight is mostly digits."""
    if isinstance(obj, float):
        return float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    return obj


def _safe_json(data: Any) -> str:
    text = json.dumps(_rounded(finite(data)), allow_nan=False, default=lambda x: None, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _gold(reference: Any) -> str | None:
    if reference is None or isinstance(reference, (str, int, float)):
        return None if reference is None else str(reference)[:MAX_CHARS]
    if isinstance(reference, dict) and ("solution" in reference or "tests" in reference):
        return "\n".join(str(reference[k]) for k in ("solution", "tests") if reference.get(k))[:MAX_CHARS]
    return json.dumps(reference, default=str)[:MAX_CHARS]


def prompts(task_specs: list[str], placed: list) -> tuple[dict, dict]:
    """task label -> prompt id -> {text, gold}, for the tasks that load here with the prompts the cells
    were generated from; and task label -> why its prompt text is not shown."""
    from creval.runner import load_task

    hashes = {cell.task: cell.meta.get("task", {}).get("prompts_hash") for _, cell in placed}
    out: dict = {}
    missing: dict = {}
    for spec in task_specs:
        try:
            task = load_task(spec)
        except (CrevalError, OSError) as exc:
            missing[spec] = f"the task does not load here: {exc}"
            continue
        if task.label not in hashes:
            continue
        if hashes[task.label] != task.prompts_hash:
            missing[task.label] = "the task's prompts changed since these cells were generated"
            continue
        out[task.label] = {p.id: {"text": p.text[:MAX_CHARS], "gold": _gold(p.reference)} for p in task.prompt_set}
    return out, missing


def samples(placed: list, results: Path) -> dict:
    """schedule -> task -> prompt -> step -> [[text, correct, answer, entropy, note]] (correct 1/0/None;
    the answer the grader extracted; for code, whose answer is a digest of the program's behaviour on the
    tests, none, and the note says "behaviour k": samples of one prompt and step with the same behaviour
    share k; the grade's status and detail where it is not a plain grade); up to
    ``MAX_PROMPTS`` prompts per task, texts cut at ``MAX_CHARS``."""
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
            behaviours: dict[str, int] = {}  # code: digest -> its number among this prompt's samples here
            for j, g in enumerate(gens[pid]):
                grade = grades.get(pid, [None] * len(gens[pid]))[j]
                entropy = sum(g.token_entropy) / len(g.token_entropy) if g.token_entropy else None
                correct = getattr(grade, "correct", None)
                status = getattr(grade, "status", "graded")
                last = (getattr(grade, "detail", "") or "").strip().splitlines()[-1:]  # a traceback's error line
                note = "" if status in ("graded", "passed") else f"{status}: {''.join(last)}"[:100].rstrip(": ")
                answer = getattr(grade, "answer", None)
                if cell.family == "code" and answer is not None:  # a digest means nothing to a reader: number it
                    number = behaviours.setdefault(answer, len(behaviours) + 1)
                    note, answer = ", ".join(filter(None, [f"behaviour {number}", note])), None
                shown.append([g.text[:MAX_CHARS], None if correct is None else int(correct),
                              answer, None if entropy is None else round(entropy, 4), note])
            out.setdefault(p.schedule, {}).setdefault(cell.task, {}).setdefault(pid, {})[str(p.step)] = shown
    return out


VALUE = ("schedule", "step", "stage", "task", "statistic", "mean", "ci_low", "ci_high", "n_prompts")
COMPARISON = ("schedule", "baseline", "task", "statistic", "difference", "ci_low", "ci_high", "prompts", "p", "testable",
              "separated", "note")


def _columns(items: list[dict], keys: tuple[str, ...]) -> dict:
    """Records as a header and rows of values (half the bytes of repeating every key)."""
    return {"keys": list(keys), "rows": [[x[k] for k in keys] for x in items]}


def _script(path: Path, name: str, data: Any) -> None:
    """Data the page loads with a ``<script src>`` (which works from disk, where fetch does not)."""
    path.write_text(f"window.{name} = {_safe_json(data)};\n", encoding="utf-8")


def _shown(rows: list[dict]) -> set[str]:
    """The statistics the page shows: all but ``_lo`` / ``_hi`` bounds that repeat their statistic's value
    at every row (an exact entropy is its own bound)."""
    value = {(r["schedule"], r["step"], r["task"], r["statistic"]): r["mean"] for r in rows}
    stats = {r["statistic"] for r in rows}
    repeats = {s for s in stats if s.endswith(("_lo", "_hi")) and all(
        r["mean"] == value.get((r["schedule"], r["step"], r["task"], s[:-3])) for r in rows if r["statistic"] == s)}
    return stats - repeats


def write_site(board: dict, placed: list, results: Path, out: Path, task_specs: list[str] | None = None) -> None:
    import plotly.offline

    out.mkdir(parents=True, exist_ok=True)
    (out / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
    page = resources.files("creval.leaderboards") / "page"
    for name in ("site.js", "site.css"):
        with resources.as_file(page / name) as src:
            shutil.copyfile(src, out / name)
    clean = finite(board)
    figs = figures(clean)
    pngs(clean, figs, out)
    texts, missing = prompts(task_specs or [], placed)
    # the page's copy: what it shows (signatures, cell keys and the analysis stay in leaderboard.json); the
    # values and the samples load with their tabs, so the first view stays light however long the sweep
    shown = _shown(clean["rows"])
    kept = ("manifest", "schedules", "diversity", "diversity_choice", "entropy_threshold", "incomplete")
    data = {"board": {k: clean.get(k) for k in kept},
            "comparisons": _columns([c for c in clean["comparisons"] if c["statistic"] in shown], COMPARISON),
            "colours": {s: colour(clean, s) for s in clean["schedules"]},
            "landing": landing(clean), "figures": [to_plotly(clean, f) for f in figs],
            "extras": {"probes": len(clean.get("probes", [])), "recommendations": len(clean.get("recommendations", [])),
                       "unreadable": len(clean.get("unreadable_reports", []))}}
    _script(out / "extras.js", "CREVAL_EXTRAS", extras_page(clean))
    _script(out / "values.js", "CREVAL_VALUES", _columns([r for r in clean["rows"] if r["statistic"] in shown], VALUE))
    cells = samples(placed, results)
    shown_schedules = [s for s in clean["schedules"] if s in cells]
    _script(out / "samples.js", "CREVAL_SAMPLES", {"schedules": shown_schedules, "prompts": texts, "missing": missing})
    for i, s in enumerate(shown_schedules):
        _script(out / f"samples-{i}.js", f"CREVAL_SAMPLES_{i}", cells[s])
    with resources.as_file(page / "index.html") as src:
        html = src.read_text(encoding="utf-8")
    (out / "index.html").write_text(html.replace("__DATA__", _safe_json(data)), encoding="utf-8")
