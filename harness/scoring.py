"""Grading and scoring one stored cell: generations in, grades, per-prompt statistics and summaries out.

Everything here reads the generations from the store, so a fresh cell and a cached one take the same
path, and a new metric or a fixed grader rescores a cell without regenerating it.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence

from .errors import CrevalError
from .frames import grades_to_table, scores_to_table, table_to_generations, table_to_grades
from .hashing import stable_hash
from .metric import CellInfo, Metric
from .records import CellResult, Generation, GenerationConfig, Grade, Prompt, PromptStatistic, Summary
from .signature import SIGNATURE_FORMAT
from .stats import CELL, mean_interval, statistic_info
from .store import Store
from .task import Task

Tick = Callable[[int], None]


_CHUNK = 64


def _grade_one(task: Task, prompt: Prompt, generation: Generation) -> Grade:
    try:
        return task.grade(prompt, generation)
    except Exception as exc:  # a malformed generation must not stop the run; it is counted
        return Grade(correct=None, status="grader-error", detail=f"{type(exc).__name__}: {exc}"[:300])


def _grade_all(task: Task, generations: dict, tick: Tick | None) -> list[list[Grade]]:
    """Grades in prompt order, through the task's batch grader (parallel for code), in chunks so the
    progress bar moves; a chunk whose batch grading raises is graded one sample at a time."""
    items = [(p, g) for p in task.prompt_set for g in generations[p.id]]
    flat: list[Grade] = []
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        try:
            flat.extend(task.grade_batch(chunk))
        except Exception:
            flat.extend(_grade_one(task, p, g) for p, g in chunk)
        if tick:
            tick(len(chunk))
    grades, i = [], 0
    for p in task.prompt_set:
        k = len(generations[p.id])
        grades.append(flat[i : i + k])
        i += k
    return grades


def score_key(metric: Metric, task: Task) -> str:
    """Which stored scores table holds a metric's values; a new signature format rescores stored cells
    (from their generations) so a store never mixes old and new signatures."""
    return stable_hash({"metric": metric.name, "v": metric.version, "params": dataclasses.asdict(metric),
                        "task": task.task_hash, "signature": SIGNATURE_FORMAT})


def required_scores(task: Task, metrics: Sequence[Metric]) -> list[str]:
    """The score files a done cell of ``task`` holds for ``metrics`` (those that apply and can run here)."""
    return [score_key(m, task) for m in metrics if m.applies_to(task.family) and not m.unavailable()]


def evaluate_cell(
    store: Store,
    key: str,
    task: Task,
    metrics: Sequence[Metric],
    config: GenerationConfig,
    *,
    cached: bool,
    force: bool = False,
    tick: Tick | None = None,
) -> CellResult:
    import pyarrow.compute as pc  # here: planning a sweep imports this module, and needs none of it

    table, meta = store.read_generations(key)
    gen_id = meta["generation_id"]
    generations = table_to_generations(table, config)
    missing = [p.id for p in task.prompt_set if p.id not in generations]
    if missing:
        raise CrevalError(f"cell {key} lacks generations for prompts {missing[:3]}; re-run with --force")

    grades_path = store.grades_path(key, task.task_hash)
    grades_table = None if force else store.read_derived(grades_path, gen_id)
    if grades_table is None:
        grades_table = grades_to_table([p.id for p in task.prompt_set], _grade_all(task, generations, tick))
        store.write_derived(grades_path, grades_table, {"task": task.ref, "grader": task.grader_id(),
                                                          "task_hash": task.task_hash}, gen_id)
    grades = table_to_grades(grades_table)

    first = next((g for gs in generations.values() for g in gs), None)  # kinds as read (old cells too)
    cell = CellInfo(config=config, task_ref=task.ref, family=task.family,
                    entropy_kind=first.entropy_kind if first else meta["entropy_kind"],
                    backend=meta.get("backend_signature", ""),
                    model_entropy_kind=first.model_entropy_kind if first else "none")
    summaries: list[Summary] = []
    items = [(p, generations[p.id], grades[p.id]) for p in task.prompt_set]
    for metric in metrics:
        if not metric.applies_to(task.family):
            continue
        reason = metric.unavailable()
        if reason:
            nan = float("nan")
            summaries += [Summary(name, nan, nan, nan, 0, metric.signature(name, cell), f"unavailable: {reason}")
                          for name in metric.statistics(config)]
            continue
        path = store.scores_path(key, score_key(metric, task))
        scores = None if force else store.read_derived(path, gen_id)
        if scores is None:
            metric.begin_cell(cell, items)
            stats = [
                PromptStatistic(p.id, name, float(value), metric.signature(name, cell))
                for p in task.prompt_set
                for name, value in metric.score(p, generations[p.id], grades[p.id]).items()
            ]
            stats += [PromptStatistic(CELL, name, float(value), metric.signature(name, cell))
                      for name, value in metric.score_cell(items).items()]
            scores = scores_to_table(stats)
            store.write_derived(path, scores, {"metric": metric.name, "task": task.ref, "task_hash": task.task_hash},
                                 gen_id)
        for name in metric.statistics(config):
            sel = scores.filter(pc.equal(scores["statistic"], name))
            values = sel["value"].to_numpy(zero_copy_only=False)
            if sel.num_rows and set(sel["prompt_id"].to_pylist()) == {CELL}:  # one value for the whole cell
                summaries.append(Summary(name, float(values[0]), float("nan"), float("nan"), len(items),
                                         metric.signature(name, cell), "across prompts"))
                continue
            mean, low, high, count = mean_interval(values, bounds=statistic_info(name).bounds).as_tuple()
            note = metric.undefined(name, cell, items) if count == 0 else ""
            summaries.append(Summary(name, mean, low, high, count, metric.signature(name, cell), note))

    finish = table["finish_reason"].to_pylist()
    return CellResult(
        task=task.label,
        task_hash=task.task_hash,
        family=task.family,
        cell_key=key,
        cached=cached,
        n_prompts=len(task.prompt_set),
        n_samples=table.num_rows,
        truncation_rate=finish.count("length") / len(finish) if finish else 0.0,
        mean_tokens=float(pc.mean(table["n_tokens"]).as_py() or 0.0),
        grade_counts=dict(Counter(grades_table["status"].to_pylist())),
        summaries=tuple(summaries),
        path=str(store.cell_dir(key)),
        grader=task.grader_id(),
    )
