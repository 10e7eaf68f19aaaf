"""A run's results as files: ``results.json`` (every summary, shaped so lm-evaluation-harness users
recognise it) and one JSON-lines sample log per task (``samples_<task>_<timestamp>.jsonl``).

``results.json`` holds lm-eval's top-level keys: ``results`` ({task: {statistic: mean,
statistic_stderr: standard error, ...}}), ``configs``, ``versions``, ``n-shot``, ``n-samples``,
``higher_is_better``, ``config`` (model, backend, generation settings) and ``date``; creval's own under
``creval``: each statistic's signature, the full summaries (mean, 95% interval, prompts counted, note),
the cell keys and folders, and the library versions. ``statistic_stderr`` is the sample standard
deviation of the statistic's per-prompt values divided by the square root of their count (lm-eval's
standard error over documents); "N/A" for a statistic computed once per cell, or from fewer than two
prompts. creval's interval (``statistic_ci95``) is the one to use: it respects the statistic's bounds.

A sample log line is one prompt: ``doc_id`` (its position), ``prompt_id``, ``prompt`` (the text the model
was given; ``system`` when there is one), ``target`` (the reference), ``resps`` (the samples' texts),
``filtered_resps`` (the answer extracted from each, None where none), ``samples`` (per sample: text,
answer, correct, grade status and detail, score, finish reason, tokens, seed, mean token entropy) and
``statistics`` (every per-prompt statistic of every metric).
"""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .jsonsafe import finite
from .records import RunResult
from .stats import CELL, statistic_info
from .store import Store
from .task import Task


def _stderr(values: Sequence[float]) -> float | str:
    kept = [v for v in values if math.isfinite(v)]
    if len(kept) < 2:
        return "N/A"
    mean = sum(kept) / len(kept)
    return math.sqrt(sum((v - mean) ** 2 for v in kept) / (len(kept) - 1) / len(kept))


def _per_prompt(store: Store, key: str) -> tuple[dict[str, dict[str, float]], dict[str, list[float]]]:
    """(prompt id -> {statistic: value}, statistic -> per-prompt values) of a cell's current scores."""
    _, meta = store.read_generations(key)
    by_prompt: dict[str, dict[str, float]] = defaultdict(dict)
    by_stat: dict[str, list[float]] = defaultdict(list)
    for table in store.current_scores(key, meta["generation_id"]):
        for row in table.to_pylist():
            if row["prompt_id"] != CELL:
                by_prompt[row["prompt_id"]][row["statistic"]] = row["value"]
                by_stat[row["statistic"]].append(row["value"])
    return by_prompt, by_stat


def fewshot_count(task: Task | None) -> int | None:
    """The task's few-shot setting where it has one (``num_fewshot``), else None (fixed prompts)."""
    params = getattr(task, "params", None)  # lm_eval:TASK keeps its parameters as strings
    shots = params.get("num_fewshot") if isinstance(params, dict) else getattr(task, "num_fewshot", None)
    return None if shots is None else int(shots)


def results_document(result: RunResult, tasks: Sequence[Task] = (), config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The content of ``results.json`` (see the module docstring). ``tasks``: the run's task objects
    (for versions and few-shot counts); ``config``: extra run settings to record (e.g. the command line)."""
    store = Store(result.results_dir)
    by_label = {t.label: t for t in tasks}
    doc: dict[str, Any] = {key: {} for key in ("results", "configs", "versions", "n-shot", "n-samples", "higher_is_better")}
    signatures: dict[str, dict[str, str]] = {}
    for cell in result.cells:
        task = by_label.get(cell.task)
        _, by_stat = _per_prompt(store, cell.cell_key)
        scores: dict[str, Any] = {"alias": cell.task}
        for s in cell.summaries:
            scores[s.statistic] = s.mean
            scores[f"{s.statistic}_stderr"] = "N/A" if s.note else _stderr(by_stat.get(s.statistic, []))
            scores[f"{s.statistic}_ci95"] = None if s.note else [s.ci_low, s.ci_high]
        doc["results"][cell.task] = scores
        doc["higher_is_better"][cell.task] = {
            s.statistic: {1: True, -1: False}.get(statistic_info(s.statistic).direction) for s in cell.summaries}
        doc["n-shot"][cell.task] = fewshot_count(task)
        doc["n-samples"][cell.task] = {"original": cell.n_prompts, "effective": cell.n_prompts,
                                       "samples_per_prompt": result.config.n}
        doc["versions"][cell.task] = task.version if task is not None else None
        doc["configs"][cell.task] = {"task": cell.task, "family": cell.family, "grader": cell.grader,
                                     "task_hash": cell.task_hash, "generation": result.config.to_dict(),
                                     "description": getattr(task, "description", "") if task is not None else ""}
        signatures[cell.task] = {s.statistic: s.signature for s in cell.summaries}
    from .runner import library_versions

    doc["config"] = {"model": result.model, "fingerprint": result.fingerprint, "backend_signature": result.backend,
                     **result.config.to_dict(), **dict(config or {})}
    doc["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    doc["creval"] = {"signatures": signatures, "cells": [
        {"task": c.task, "cell_key": c.cell_key, "path": c.path, "cached": c.cached, "n_samples": c.n_samples,
         "truncation_rate": c.truncation_rate, "mean_tokens": c.mean_tokens, "grade_counts": dict(c.grade_counts),
         "summaries": [asdict(s) for s in c.summaries]}
        for c in result.cells], "busy": list(result.busy), "library_versions": library_versions(),
        "results_dir": result.results_dir}
    return finite(doc)


def write_results(result: RunResult, folder: str | Path, tasks: Sequence[Task] = (),
                  config: Mapping[str, Any] | None = None) -> Path:
    """Write ``folder/results.json`` (replacing one there) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results_document(result, tasks, config), indent=2, allow_nan=False) + "\n")
    tmp.replace(path)
    return path


def _mean(values: Sequence[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


def sample_rows(store: Store, key: str, task: Task) -> list[dict[str, Any]]:
    """One row per prompt of the cell ``key`` of ``task`` (the sample log's lines)."""
    table, meta = store.read_generations(key)
    gen_id = meta["generation_id"]
    grades_table = store.read_derived(store.grades_path(key, task.task_hash), gen_id)
    grades: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in grades_table.to_pylist() if grades_table is not None else []:
        grades[g["prompt_id"]].append(g)
    samples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in table.select(["prompt_id", "sample", "text", "finish_reason", "n_tokens", "seed", "token_entropy"]).to_pylist():
        samples[g["prompt_id"]].append(g)
    by_prompt, _ = _per_prompt(store, key)
    rows = []
    for i, prompt in enumerate(task.prompt_set):
        gens = sorted(samples.get(prompt.id, []), key=lambda g: g["sample"])
        verdicts = {g["sample"]: g for g in grades.get(prompt.id, [])}
        detail = []
        for g in gens:
            v = verdicts.get(g["sample"], {})
            detail.append({"text": g["text"], "answer": v.get("answer"), "correct": v.get("correct"),
                           "status": v.get("status"), "detail": v.get("detail") or "", "score": v.get("score"),
                           "finish_reason": g["finish_reason"], "n_tokens": g["n_tokens"], "seed": g["seed"],
                           "mean_token_entropy": _mean(g["token_entropy"])})
        row: dict[str, Any] = {"doc_id": i, "prompt_id": prompt.id, "prompt": prompt.text}
        if prompt.system:
            row["system"] = prompt.system
        row.update(target=prompt.reference, resps=[d["text"] for d in detail],
                   filtered_resps=[d["answer"] for d in detail], samples=detail,
                   statistics=by_prompt.get(prompt.id, {}))
        rows.append(finite(row))
    return rows


def _file_label(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", label).strip("_") or "task"


def write_sample_logs(result: RunResult, folder: str | Path, tasks: Sequence[Task]) -> list[Path]:
    """Write ``folder/samples_<task>_<timestamp>.jsonl`` for every cell of ``result``; their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(result.results_dir)
    by_label = {t.label: t for t in tasks}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%f")
    paths = []
    for cell in result.cells:
        path = folder / f"samples_{_file_label(cell.task)}_{stamp}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for row in sample_rows(store, cell.cell_key, by_label[cell.task]):
                f.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        paths.append(path)
    return paths
