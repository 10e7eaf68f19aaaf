"""``creval sweep``: every checkpoint of every schedule of a manifest on every task, once.

The plan reads only file names and cached fingerprints: a cell is done when its generations are in
the store (content-addressed, so an interrupted sweep re-run evaluates only what is missing and never
duplicates a cell; the store's atomic writes leave no partial one). Each checkpoint is one
``creval.run`` (one engine for all its tasks). A checkpoint that is missing or fails to load is
recorded in ``results/failures/`` with the reason, shown by ``creval status``, and the sweep goes on;
the record is cleared when the checkpoint later succeeds. Executors: ``local`` (in order, in this
process) and ``ray`` (one Ray task per checkpoint; a worker that dies is retried by Ray).
"""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from . import registry
from .engines import EngineCache
from .errors import CrevalError
from .hashing import stable_hash
from .manifest import Checkpoint, Manifest
from .runner import load_metrics, load_tasks, run, task_config
from .store import Store, cell_key


@dataclass
class PlannedCell:
    schedule: str
    step: int
    stage: str | None
    checkpoint: str
    task: str
    state: str  # done | missing | failed
    reason: str = ""
    key: str | None = None


@dataclass
class SweepSummary:
    generated: int = 0
    cached: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def _failure_path(results: Path, ckpt: Checkpoint) -> Path:
    return results / "failures" / f"{stable_hash([ckpt.schedule, ckpt.step, str(ckpt.path)])}.json"


def record_failure(results: Path, ckpt: Checkpoint, reason: str) -> None:
    path = _failure_path(results, ckpt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps({"schedule": ckpt.schedule, "step": ckpt.step, "checkpoint": str(ckpt.path),
                               "reason": reason, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}))
    os.replace(tmp, path)


def clear_failure(results: Path, ckpt: Checkpoint) -> None:
    _failure_path(results, ckpt).unlink(missing_ok=True)


def read_failure(results: Path, ckpt: Checkpoint) -> str | None:
    try:
        return json.loads(_failure_path(results, ckpt).read_text())["reason"]
    except (OSError, ValueError, KeyError):
        return None


def checkpoints(manifest: Manifest, settle: float = 0.0) -> list[Checkpoint]:
    return [c for s in manifest.schedules for c in s.checkpoints(settle)]


def plan(manifest: Manifest, settle: float = 0.0) -> list[PlannedCell]:
    tasks = load_tasks(manifest.tasks)
    backend_cls = registry.load("backends", manifest.backend)
    signature = backend_cls.signature(manifest.backend_options)
    store = Store(manifest.results)
    cells = []
    for ckpt in checkpoints(manifest, settle):
        failure = read_failure(manifest.results, ckpt)
        try:
            fp = backend_cls.resolve(str(ckpt.path), manifest.backend_options).fingerprint
        except CrevalError as exc:
            cells += [PlannedCell(ckpt.schedule, ckpt.step, ckpt.stage, str(ckpt.path), t.label, "failed",
                                  failure or str(exc)) for t in tasks]
            continue
        for t in tasks:
            key = cell_key(fp, t.prompts_hash, task_config(manifest.config, t).hash(), signature)
            state = "done" if store.has_generations(key) else ("failed" if failure else "missing")
            cells.append(PlannedCell(ckpt.schedule, ckpt.step, ckpt.stage, str(ckpt.path), t.label, state,
                                     failure if state == "failed" else "", key))
    return cells


def _run_checkpoint(manifest: Manifest, ckpt: Checkpoint, progress: bool, engines: EngineCache | None = None) -> list[bool]:
    """Evaluate one checkpoint on every task; the cached flag of each cell."""
    result = run(str(ckpt.path), manifest.tasks, manifest.config, backend=manifest.backend,
                 backend_options=manifest.backend_options, metrics=manifest.metrics, out=str(manifest.results),
                 progress=progress, engines=engines)
    return [c.cached for c in result.cells]


def sweep(manifest: Manifest, *, executor: str = "local", address: str | None = None, gpus_per_task: float = 0,
          settle: float = 0.0, progress: bool = False, on_checkpoint: Callable[[Checkpoint, str], None] | None = None,
          reuse_engines: bool = True) -> SweepSummary:
    """Evaluate every checkpoint with a missing cell; returns what was generated, cached and failed."""
    load_tasks(manifest.tasks)  # bad task or metric names fail before anything runs
    for metric in load_metrics(manifest.metrics or []):
        metric.prepare(manifest.config)
    cells = plan(manifest, settle)
    todo_keys = {(c.schedule, c.step) for c in cells if c.state != "done"}
    summary = SweepSummary(cached=sum(c.state == "done" for c in cells))
    todo = [c for c in checkpoints(manifest, settle) if (c.schedule, c.step) in todo_keys]
    if executor == "ray":
        outcomes = _ray_run(manifest, todo, address, gpus_per_task)
    else:
        outcomes = _local_run(manifest, todo, progress, reuse_engines)
    for ckpt, outcome in zip(todo, outcomes):
        if isinstance(outcome, str):
            record_failure(manifest.results, ckpt, outcome)
            summary.failed.append({"schedule": ckpt.schedule, "step": ckpt.step, "checkpoint": str(ckpt.path),
                                   "reason": outcome})
        else:
            clear_failure(manifest.results, ckpt)
            summary.generated += sum(not c for c in outcome)
        if on_checkpoint:
            on_checkpoint(ckpt, outcome if isinstance(outcome, str) else "ok")
    return summary


def watch(manifest: Manifest, *, interval: float = 60.0, settle: float = 30.0, max_polls: int | None = None,
          on_poll: Callable[[int, SweepSummary], None] | None = None, **kwargs: Any) -> SweepSummary:
    """Poll for new checkpoints as training writes them and evaluate each once it is complete
    (unchanged for ``settle`` seconds); until interrupted, or for ``max_polls`` polls."""
    total = SweepSummary()
    polls = 0
    while max_polls is None or polls < max_polls:
        summary = sweep(manifest, settle=settle, **kwargs)
        total.generated += summary.generated
        total.failed += summary.failed
        total.cached = summary.cached
        polls += 1
        if on_poll:
            on_poll(polls, summary)
        if max_polls is None or polls < max_polls:
            time.sleep(interval)
    return total


def _local_run(manifest: Manifest, todo: list[Checkpoint], progress: bool, reuse: bool) -> list[list[bool] | str]:
    """Checkpoints in order; with ``reuse``, one engine per schedule, its weights swapped in place
    between checkpoints where the backend can (vLLM), else loaded per checkpoint."""
    outcomes: list[list[bool] | str] = []
    engines: EngineCache | None = None
    schedule = None
    try:
        for ckpt in tqdm(todo, desc="sweep", unit="checkpoint", disable=not progress, file=sys.stderr):
            if reuse and ckpt.schedule != schedule:
                if engines:
                    engines.close()
                engines, schedule = EngineCache(), ckpt.schedule
            try:
                outcomes.append(_run_checkpoint(manifest, ckpt, progress, engines))
            except CrevalError as exc:
                outcomes.append(str(exc))
            except Exception as exc:  # an unexpected failure of one checkpoint must not stop the others
                outcomes.append(f"{type(exc).__name__}: {exc}")
    finally:
        if engines:
            engines.close()
    return outcomes


def _ray_run(manifest: Manifest, todo: list[Checkpoint], address: str | None, gpus: float) -> list[list[bool] | str]:
    try:
        import ray
    except ImportError:
        raise CrevalError("the ray executor needs Ray: pip install 'creval[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)

    @ray.remote(num_gpus=gpus, max_retries=3)
    def evaluate(manifest_dict: dict, ckpt_dict: dict) -> list[bool] | str:
        from creval.manifest import Checkpoint as C
        from creval.sweep import manifest_from_dict

        m, c = manifest_from_dict(manifest_dict), C(**{**ckpt_dict, "path": Path(ckpt_dict["path"])})
        try:
            return _run_checkpoint(m, c, False)
        except CrevalError as exc:
            return str(exc)

    payload = manifest_to_dict(manifest)
    refs = [evaluate.remote(payload, {**asdict(c), "path": str(c.path)}) for c in todo]
    outcomes: list[list[bool] | str] = []
    for ref in refs:
        try:
            outcomes.append(ray.get(ref))
        except Exception as exc:  # retries exhausted (a worker kept dying) or an unexpected error
            outcomes.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return outcomes


def manifest_to_dict(m: Manifest) -> dict:
    return {"path": str(m.path), "tasks": m.tasks, "metrics": m.metrics, "config": m.config.to_dict(),
            "backend": m.backend, "backend_options": m.backend_options, "results": str(m.results)}


def manifest_from_dict(d: dict) -> Manifest:
    from .records import GenerationConfig

    config = GenerationConfig(**{**d["config"], "stop": tuple(d["config"]["stop"])})
    return Manifest(Path(d["path"]), d["tasks"], d["metrics"], config, d["backend"], d["backend_options"],
                    Path(d["results"]), [])
