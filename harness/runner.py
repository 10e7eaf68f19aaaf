"""``creval.run``: one checkpoint, its tasks, one generation config, one backend -> stored, scored cells.

Everything that can be wrong with the input (unknown task or metric, k > n, missing or broken
checkpoint) is found before the results directory is touched, so bad input writes nothing.
"""
from __future__ import annotations

import platform
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Mapping, Sequence

from tqdm import tqdm

from . import registry
from .checkpoints import fingerprint, resolve_checkpoint
from .errors import CrevalError
from .frames import generations_to_table
from .metric import Metric, parse_metric_spec
from .records import GenerationConfig, RunResult
from .scoring import evaluate_cell
from .store import Store, cell_key
from .task import Task

DEFAULT_TASKS = ("mini_math", "mini_code", "mini_writing")
DEFAULT_METRICS = ("pass_at_k", "distinct_n", "token_entropy")


def load_tasks(names: Sequence[str]) -> list[Task]:
    if len(set(names)) != len(names):
        raise CrevalError(f"task listed twice in {list(names)}")
    return [registry.load("tasks", name)() for name in names]


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
            pass
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
) -> RunResult:
    """Evaluate checkpoint ``model`` on ``tasks`` (default: the bundled mini suite) and store the cells.

    A cell already in ``out`` is not regenerated unless ``force``; its grades and metric values are
    read back, or computed from its stored generations if a grader or metric is new.
    """
    config = config or GenerationConfig()
    options = dict(backend_options or {})
    task_objs = load_tasks(list(tasks or DEFAULT_TASKS))
    metric_objs = load_metrics(list(metrics or DEFAULT_METRICS))
    for metric in metric_objs:
        metric.prepare(config)
    backend_cls = registry.load("backends", backend)
    backend_sig = backend_cls.signature(options)
    ckpt = resolve_checkpoint(model)
    fp = fingerprint(ckpt)

    store = Store(out)
    keys = {t.name: cell_key(fp, t.prompts_hash, config.hash(), backend_sig) for t in task_objs}
    todo = {t.name for t in task_objs if force or not store.has_generations(keys[t.name])}
    engine = backend_cls.load(ckpt, options) if todo else None  # a load failure still writes nothing

    cells = []
    for task in task_objs:
        key = keys[task.name]
        if task.name in todo:
            assert engine is not None
            with tqdm(total=len(task.prompt_set), desc=f"{task.name}: generate", unit="prompt",
                      disable=not progress, file=sys.stderr, leave=False) as bar:
                started = time.perf_counter()
                gens = engine.generate(task.prompt_set, config, progress=bar.update)
                seconds = time.perf_counter() - started
            meta = {
                "model": model, "checkpoint": str(ckpt), "fingerprint": fp,
                "task": {"name": task.name, "version": task.version, "family": task.family,
                         "prompts_hash": task.prompts_hash, "task_hash": task.task_hash},
                "config": config.to_dict(), "backend": backend, "backend_signature": backend_sig,
                "entropy_kind": engine.entropy_kind, "generation_seconds": round(seconds, 3),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": library_versions(),
            }
            store.write_generations(key, generations_to_table(task.prompt_set, gens), meta)
        with tqdm(total=len(task.prompt_set), desc=f"{task.name}: grade", unit="prompt",
                  disable=not progress, file=sys.stderr, leave=False) as bar:
            cells.append(evaluate_cell(store, key, task, metric_objs, config,
                                       cached=task.name not in todo, force=force, tick=bar.update))
    return RunResult(model=model, fingerprint=fp, backend=backend_sig, config=config, cells=tuple(cells), results_dir=str(store.root))
