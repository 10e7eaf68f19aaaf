"""``creval.run``: one checkpoint, its tasks, one generation config, one backend -> stored, scored cells.

Everything that can be wrong with the input (unknown task or metric, k > n, missing or broken
checkpoint) is found before the results directory is touched, so bad input writes nothing.
"""
from __future__ import annotations

import logging
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from filelock import Timeout
from tqdm import tqdm

from . import registry
from .engines import EngineCache
from .errors import CrevalError
from .frames import generations_to_table
from .metric import Metric, parse_metric_spec
from .records import CellResult, GenerationConfig, RunResult
from .scoring import evaluate_cell, required_scores
from .spec_strings import build, split_spec
from .store import Store, task_cell_key, task_config
from .task import Task

log = logging.getLogger(__name__)
DEFAULT_TASKS = ("mini_math", "mini_code", "mini_writing")
DEFAULT_METRICS = ("pass_at_k", "maj_at_k", "distinct_n", "self_bleu", "compression_ratio", "ast_diversity",
                   "token_entropy")


def load_task(spec: str) -> Task:
    """A registered task (``name[:key=value...]``) or a user task file (``path/to/task.yaml``)."""
    from creval.tasks.spec import SpecTask, is_spec_file

    if is_spec_file(spec):
        return SpecTask(spec)
    name, assignments = split_spec(spec)
    if name == "lm_eval":  # lm_eval:TASK[:key=value...]
        from creval.tasks.lm_eval_task import LMEvalTask

        if not assignments or "=" in assignments[0]:
            raise CrevalError(f"{spec!r}: name the lm-eval task, e.g. lm_eval:gsm8k")
        params = dict(a.partition("=")[::2] for a in assignments[1:])
        return LMEvalTask(assignments[0], **params)
    return build(spec, registry.load("tasks", name), "task")


def load_tasks(specs: Sequence[str]) -> list[Task]:
    tasks = [load_task(spec) for spec in specs]
    labels = [t.label for t in tasks]
    if len(set(labels)) != len(labels):
        raise CrevalError(f"task listed twice in {list(specs)}")
    return tasks


def load_metrics(specs: Sequence[str]) -> list[Metric]:
    metrics = [parse_metric_spec(spec, registry.load("metrics", spec.split(":")[0])) for spec in specs]
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise CrevalError(f"metric listed twice in {list(specs)}; give one spec per metric")
    return metrics


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in ("creval", "torch", "transformers", "tokenizers", "math-verify", "numpy", "pyarrow"):
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            continue  # not installed: not part of the environment
    return out


def run(
    model: str,
    tasks: Sequence[str] | None = None,
    config: GenerationConfig | None = None,
    *,
    backend: str = "hf",
    backend_options: Mapping[str, Any] | None = None,
    metrics: Sequence[str] | None = None,
    out: str = "results",
    force: bool = False,
    progress: bool = False,
    engines: EngineCache | None = None,
    wait: bool = True,
) -> RunResult:
    """Evaluate checkpoint ``model`` on ``tasks`` (default: the bundled mini suite) and store the cells.

    A cell already in ``out`` is not regenerated unless ``force``; its grades and metric values are
    read back, or computed from its stored generations if a grader or metric is new. ``engines``: an
    ``EngineCache`` that keeps the engine for the caller's next checkpoint (sweeps) instead of closing it.
    A cell that is not done is generated, graded and scored under its lock; when another process holds
    it, ``wait`` waits for that one to finish, else the cell is left out and named in ``busy``.
    """
    config = config or GenerationConfig()
    options = dict(backend_options or {})
    task_objs = load_tasks(list(tasks or DEFAULT_TASKS))
    metric_objs = load_metrics(list(metrics or DEFAULT_METRICS))
    for metric in metric_objs:
        metric.prepare(config)
    backend_cls = registry.load("backends", backend)
    backend_sig = backend_cls.signature(options)
    source = backend_cls.resolve(model, options)
    fp = source.fingerprint

    for task in task_objs:
        _ = task.prompt_set  # load every task's data now: a missing dataset fails before anything is written
    configs = {t.label: task_config(config, t) for t in task_objs}
    store = Store(out)
    fresh = not store.root.exists()
    keys = {t.label: task_cell_key(fp, t, config, backend_sig) for t in task_objs}
    done = {t.label for t in task_objs if not force and
            store.state(keys[t.label], t.task_hash, required_scores(t, metric_objs))[0] == "done"}
    provenance = {"model": model, "checkpoint": source.location, "fingerprint": fp, "backend": backend,
                  "backend_signature": backend_sig}
    locks, busy = {}, []
    engine = None
    try:
        for t in task_objs:  # a cell not done is worked on under its lock, by one process at a time
            if t.label not in done:
                lock = store.lock(keys[t.label])
                try:
                    lock.acquire(timeout=-1 if wait else 0)
                    locks[t.label] = lock
                except Timeout:
                    busy.append(t.label)
        todo = {label for label in locks if force or not store.usable_generations(keys[label])}
        if todo:
            try:
                engine = engines.get(backend_cls, source, options) if engines else backend_cls.load(source, options)
                for task in task_objs:  # e.g. prompt + max_new_tokens beyond the context: refused before generating
                    if task.label in todo and hasattr(engine, "check"):
                        engine.check(task.prompt_set, configs[task.label], task.label)
            except BaseException:
                if fresh:  # a load failure still writes nothing
                    store.remove_if_unused()
                raise
        cells = []
        for task in task_objs:
            if task.label in busy:
                continue
            cells.append(_evaluate(task, engine if task.label in todo else None, store, keys[task.label],
                                   configs[task.label], metric_objs, provenance, force=force, progress=progress))
            if task.label in locks:
                store.finish_cell(keys[task.label], task.task_hash)
    finally:
        for lock in locks.values():
            lock.release()
        if engine is not None and engines is None and hasattr(engine, "close"):
            engine.close()
    return RunResult(model=model, fingerprint=fp, backend=backend_sig, config=config, cells=tuple(cells),
                     results_dir=str(store.root), busy=tuple(busy))


def _evaluate(task: Task, engine: Any, store: Store, key: str, config: GenerationConfig, metrics: Sequence[Metric],
              provenance: Mapping[str, Any], *, force: bool, progress: bool) -> CellResult:
    """One cell: generated and stored first when ``engine`` is given (missing or forced), then graded
    and scored from the store. A line per step goes to the ``creval.runner`` log: at INFO without
    progress bars (a long run never looks stuck in a CI log), at DEBUG with them."""
    level = logging.DEBUG if progress else logging.INFO
    if engine is not None:
        log.log(level, "%s: generating %d prompts x %d samples", task.label, len(task.prompt_set), config.n)
        with tqdm(total=len(task.prompt_set), desc=f"{task.label}: generate", unit="prompt",
                  disable=not progress, file=sys.stderr, leave=False) as bar:
            started = time.perf_counter()
            gens = engine.generate(task.prompt_set, config, progress=bar.update)
            seconds = time.perf_counter() - started
        meta = {
            **provenance,
            "task": {"name": task.name, "label": task.label, "version": task.version, "family": task.family,
                     "prompts_hash": task.prompts_hash, "task_hash": task.task_hash},
            "config": config.to_dict(), "entropy_kind": engine.entropy_kind, "generation_seconds": round(seconds, 3),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "versions": library_versions(),
        }
        store.write_generations(key, generations_to_table(task.prompt_set, gens), meta)
        log.log(level, "%s: generated in %.1f s", task.label, seconds)
    log.log(level, "%s: grading and scoring%s", task.label, " (generations from the store)" if engine is None else "")
    with tqdm(total=len(task.prompt_set) * config.n, desc=f"{task.label}: grade", unit="sample",
              disable=not progress, file=sys.stderr, leave=False) as bar:
        return evaluate_cell(store, key, task, metrics, config, cached=engine is None, force=force, tick=bar.update)
