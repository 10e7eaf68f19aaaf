"""``creval sweep``: every checkpoint of every schedule of a manifest on every task, once.

The plan reads cell manifests and cached fingerprints: a cell is done when its manifest (written last)
is valid and lists every grade and score asked for (content-addressed, so an interrupted sweep re-run
evaluates only what is missing, completes a partial cell without regenerating it and never duplicates
one). Each cell is worked on under its lock, so concurrent sweeps divide the work. The sweep records
each place's cell key in the store's index, so leaderboards are rebuilt without the checkpoints
(``placed``). Each checkpoint is one
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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import registry
from .engines import EngineCache
from .errors import CrevalError
from .hashing import stable_hash
from .manifest import Checkpoint, Manifest
from .runner import DEFAULT_METRICS, load_metrics, load_tasks, run
from .scoring import required_scores
from .store import Store, task_cell_key, task_config


@dataclass
class PlannedCell:
    schedule: str
    step: int
    stage: str | None
    checkpoint: str
    task: str
    state: str  # done | partial | corrupt | missing | failed
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


def _metrics(manifest: Manifest) -> list:
    metrics = load_metrics(manifest.metrics or DEFAULT_METRICS)
    for metric in metrics:
        metric.prepare(manifest.config)
    return metrics


def _place(schedule: str, step: int, checkpoint: str, task: Any, manifest: Manifest, signature: str) -> tuple[str, str]:
    """(place id, evaluation id) of a planned cell in the sweep index: where it sits and what it evaluates."""
    evaluation = stable_hash([task.label, task_config(manifest.config, task).hash(), signature])
    return stable_hash([schedule, step, checkpoint, evaluation]), evaluation


def plan(manifest: Manifest, settle: float = 0.0, only: set[tuple[str, int]] | None = None) -> list[PlannedCell]:
    """Every cell of the manifest (or of the (schedule, step) places in ``only``) with its state: done,
    partial (generations without every grade and score: resumed without regenerating), corrupt (a file
    is damaged), missing, failed. Fingerprints each checkpoint (cached digests) and loads the task data."""
    tasks = load_tasks(manifest.tasks)
    metrics = _metrics(manifest)
    required = {t.label: required_scores(t, metrics) for t in tasks}
    backend_cls = registry.load("backends", manifest.backend)
    signature = backend_cls.signature(manifest.backend_options)
    store = Store(manifest.results)
    cells = []
    for ckpt in checkpoints(manifest, settle):
        if only is not None and (ckpt.schedule, ckpt.step) not in only:
            continue
        failure = read_failure(manifest.results, ckpt)
        try:
            fp = backend_cls.resolve(str(ckpt.path), manifest.backend_options).fingerprint
        except CrevalError as exc:
            cells += [PlannedCell(ckpt.schedule, ckpt.step, ckpt.stage, str(ckpt.path), t.label, "failed",
                                  failure or str(exc)) for t in tasks]
            continue
        for t in tasks:
            key = task_cell_key(fp, t, manifest.config, signature)
            state, reason = store.state(key, t.task_hash, required[t.label])
            if state == "missing" and failure:
                state, reason = "failed", failure
            cells.append(PlannedCell(ckpt.schedule, ckpt.step, ckpt.stage, str(ckpt.path), t.label, state, reason, key))
    return cells


def _record_places(manifest: Manifest, cells: list[PlannedCell]) -> None:
    """The sweep index: each planned place's cell key, so a leaderboard is rebuilt from the store and
    the manifest alone (no checkpoints, no task data)."""
    tasks = {t.label: t for t in load_tasks(manifest.tasks)}
    signature = registry.load("backends", manifest.backend).signature(manifest.backend_options)
    entries = {}
    for c in cells:
        if c.key is not None:
            place, evaluation = _place(c.schedule, c.step, c.checkpoint, tasks[c.task], manifest, signature)
            entries[place] = {"schedule": c.schedule, "step": c.step, "stage": c.stage, "checkpoint": c.checkpoint,
                              "task": c.task, "evaluation": evaluation, "key": c.key}
    if entries:
        Store(manifest.results).record_places(entries)


def placed(manifest: Manifest) -> list[PlannedCell]:
    """The manifest's places and their cells for leaderboards: from the sweep index where it has them
    (the state is ``done`` when the cell's manifest is valid), through ``plan`` only for listed or
    discovered checkpoints the index lacks. A schedule whose checkpoints are gone keeps its indexed places."""
    tasks = load_tasks(manifest.tasks)
    signature = registry.load("backends", manifest.backend).signature(manifest.backend_options)
    store = Store(manifest.results)
    index = store.read_places()
    evaluations = {_place("", 0, "", t, manifest, signature)[1]: t.label for t in tasks}
    out: list[PlannedCell] = []
    unindexed: set[tuple[str, int]] = set()
    for schedule in manifest.schedules:
        present = schedule.checkpoints()
        if present:
            for ckpt in present:
                for t in tasks:
                    entry = index.get(_place(schedule.name, ckpt.step, str(ckpt.path), t, manifest, signature)[0])
                    if entry is None:
                        unindexed.add((schedule.name, ckpt.step))
                    else:
                        out.append(_indexed(store, {**entry, "stage": ckpt.stage}))
        else:  # checkpoints moved away: the places the sweep recorded
            out += [_indexed(store, e) for e in index.values()
                    if e["schedule"] == schedule.name and e["evaluation"] in evaluations]
    if unindexed:
        out = [c for c in out if (c.schedule, c.step) not in unindexed] + plan(manifest, only=unindexed)
    order = {(s.name): i for i, s in enumerate(manifest.schedules)}
    labels = [t.label for t in tasks]
    return sorted(out, key=lambda c: (order[c.schedule], c.step, labels.index(c.task)))


def _indexed(store: Store, e: dict) -> PlannedCell:
    state = "done" if store.is_finished(e["key"]) else "missing"
    return PlannedCell(e["schedule"], e["step"], e["stage"], e["checkpoint"], e["task"], state, "", e["key"])


def _run_checkpoint(manifest: Manifest, ckpt: Checkpoint, progress: bool, engines: EngineCache | None = None,
                    wait: bool = True) -> tuple[dict[str, bool], tuple[str, ...]]:
    """Evaluate one checkpoint on every task; the cached flag of each cell, and the tasks left out
    because another process holds their cells (``wait=False``)."""
    result = run(str(ckpt.path), manifest.tasks, manifest.config, backend=manifest.backend,
                 backend_options=manifest.backend_options, metrics=manifest.metrics, out=str(manifest.results),
                 progress=progress, engines=engines, wait=wait)
    return {c.task: c.cached for c in result.cells}, result.busy


def sweep(manifest: Manifest, *, executor: str = "local", address: str | None = None, gpus_per_task: float = 0,
          settle: float = 0.0, progress: bool = False, on_checkpoint: Callable[[Checkpoint, str], None] | None = None,
          reuse_engines: bool = True) -> SweepSummary:
    """Evaluate every checkpoint with a cell not done; returns what was generated, cached and failed.
    Concurrent sweeps of one manifest divide the work: a cell another sweep holds is skipped, and
    waited for at the end."""
    load_tasks(manifest.tasks)  # bad task or metric names fail before anything runs
    cells = plan(manifest, settle)
    _record_places(manifest, cells)
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
    between checkpoints where the backend can (vLLM), else loaded per checkpoint. Cells another process
    holds are skipped on the first pass and waited for on a second."""
    outcomes: dict[int, dict[str, bool] | str] = {}
    engines: EngineCache | None = None
    schedule = None
    deferred: list[int] = []
    try:
        for wait, indices in ((False, range(len(todo))), (True, deferred)):
            for i in tqdm(list(indices), desc="sweep", unit="checkpoint", disable=not progress, file=sys.stderr):
                ckpt = todo[i]
                if reuse and ckpt.schedule != schedule:
                    if engines:
                        engines.close()
                    engines, schedule = EngineCache(), ckpt.schedule
                try:
                    flags, busy = _run_checkpoint(manifest, ckpt, progress, engines, wait)
                    outcomes[i] = {**flags, **outcomes.get(i, {})}  # type: ignore[dict-item]  # first pass wins
                    if busy:
                        deferred.append(i)
                except CrevalError as exc:
                    outcomes[i] = str(exc)
                except Exception as exc:  # an unexpected failure of one checkpoint must not stop the others
                    outcomes[i] = f"{type(exc).__name__}: {exc}"
    finally:
        if engines:
            engines.close()
    return [o if isinstance(o, str) else list(o.values()) for o in (outcomes[i] for i in range(len(todo)))]


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
            return list(_run_checkpoint(m, c, False)[0].values())
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
