"""``creval export tensorboard|wandb``: the leaderboard's per-checkpoint values as training-style scalars.

One run per schedule, the checkpoint's training step as the x-axis, one scalar per task and statistic:

    <prefix>/<task>/<statistic>          the leaderboard's value (mean over prompts), e.g. eval/mini_math/pass@1
    <prefix>_ci_low/<task>/<statistic>   the lower bound of its 95% interval (where it has one)
    <prefix>_ci_high/<task>/<statistic>  the upper bound

The values are the leaderboard's rows (``SweepScores.rows``: same cells, same intervals, refused when
signatures are not comparable); a value that is not finite is left out. Each run carries the
statistics' signatures: W&B as the run config, TensorBoard as a text summary ``creval/run``. TensorBoard
stores scalars as float32. W&B runs are offline by default (``wandb sync`` uploads them later); each
export makes new runs. A TensorBoard export replaces the event files of an earlier export into the same
folder (recognised by its ``creval-export.json``) and refuses a non-empty folder creval did not write.
"""
from __future__ import annotations

import importlib
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creval.errors import CrevalError

from .collect import SweepScores, read_sweep

KINDS = ("tensorboard", "wandb")
MARKER = "creval-export.json"


@dataclass
class ExportedRun:
    schedule: str
    path: str  # the run's folder
    steps: list[int]
    scalars: int


def series(rows: list[dict[str, Any]], prefix: str = "eval") -> dict[str, dict[int, dict[str, float]]]:
    """schedule -> training step -> tag -> value, in schedule and step order; non-finite values left out."""
    out: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        name = f"{r['task']}/{r['statistic']}"
        for tag, value in ((f"{prefix}/{name}", r["mean"]), (f"{prefix}_ci_low/{name}", r["ci_low"]),
                           (f"{prefix}_ci_high/{name}", r["ci_high"])):
            if math.isfinite(value):
                out[r["schedule"]][r["step"]][tag] = float(value)
    return {s: dict(sorted(steps.items())) for s, steps in out.items()}


def run_config(scores: SweepScores, schedule: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a run records besides its scalars: where the values come from and their signatures
    (``task/statistic`` -> signature, a list when comparable checkpoints differ in it, e.g. n)."""
    from creval._version import __version__

    signatures: dict[str, list[str]] = defaultdict(list)
    stages = {}
    for r in rows:
        if r["schedule"] == schedule:
            sigs = signatures[f"{r['task']}/{r['statistic']}"]
            if r["signature"] not in sigs:
                sigs.append(r["signature"])
            stages[str(r["step"])] = r["stage"]
    return {"schedule": schedule, "manifest": str(scores.manifest.path), "results": str(scores.manifest.results),
            "creval": __version__, "stages": stages,
            "signatures": {k: v[0] if len(v) == 1 else v for k, v in sorted(signatures.items())}}


def _require(module: str, what: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CrevalError(f"exporting to {what} needs the `{module}` package: pip install 'creval[export]'") from None


def export(kind: str, results: Path, manifest_path: Path, out: Path, **options: Any) -> list[ExportedRun]:
    """Write the runs of ``kind`` (tensorboard | wandb) under ``out``; options: ``prefix`` and, for
    wandb, ``project``, ``entity``, ``online``."""
    writers: dict[str, Callable[..., list[ExportedRun]]] = {"tensorboard": to_tensorboard, "wandb": to_wandb}
    if kind not in writers:
        raise CrevalError(f"unknown export {kind!r}: expected one of {', '.join(KINDS)}")
    return writers[kind](results, manifest_path, out, **options)


def _claim(out: Path, kind: str, schedules: list[str]) -> None:
    """Make ``out`` ours: empty, or an earlier export of this kind, whose event files are removed."""
    marker = out / MARKER
    if out.is_dir() and any(out.iterdir()):
        try:
            earlier = json.loads(marker.read_text())
        except (OSError, ValueError):
            earlier = None
        if not isinstance(earlier, dict) or earlier.get("kind") != kind:
            raise CrevalError(f"{out} holds files that are not a creval {kind} export: choose an empty or new folder")
        for schedule in set(earlier.get("schedules", [])) | set(schedules):
            for old in (out / schedule).glob("events.out.tfevents.*"):
                old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"kind": kind, "schedules": schedules}))


def to_tensorboard(results: Path, manifest_path: Path, out: Path, *, prefix: str = "eval") -> list[ExportedRun]:
    """One event file per schedule under ``out/<schedule>/`` (``tensorboard --logdir out``)."""
    _require("tensorboard", "TensorBoard")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.plugins.text.summary_v2 import text_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    scores = read_sweep(results, manifest_path)
    rows = scores.rows()
    per_schedule = series(rows, prefix)
    _claim(out, "tensorboard", list(per_schedule))
    runs = []
    for schedule, steps in per_schedule.items():
        folder = out / schedule
        writer = EventFileWriter(str(folder))
        try:
            config = run_config(scores, schedule, rows)
            writer.add_event(event_pb2.Event(wall_time=time.time(), step=next(iter(steps)),
                                             summary=text_pb("creval/run", _markdown(config))))
            for step, values in steps.items():
                for tag, value in values.items():
                    writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=scalar_pb(tag, value)))
        finally:
            writer.close()
        runs.append(ExportedRun(schedule, str(folder), list(steps), sum(len(v) for v in steps.values())))
    return runs


def _markdown(config: dict[str, Any]) -> str:
    head = "\n".join(f"* {k}: `{config[k]}`" for k in ("schedule", "manifest", "results", "creval"))
    table = "\n".join(f"| {name} | `{sig}` |" for name, sig in config["signatures"].items())
    return f"{head}\n\n| task/statistic | signature |\n|---|---|\n{table}\n"


def to_wandb(results: Path, manifest_path: Path, out: Path, *, prefix: str = "eval", project: str = "creval",
             entity: str | None = None, online: bool = False) -> list[ExportedRun]:
    """One W&B run per schedule (name: the schedule, group: the manifest's file name), under
    ``out/wandb/``; offline unless ``online`` (then it needs ``wandb login``)."""
    wandb = _require("wandb", "Weights & Biases")
    scores = read_sweep(results, manifest_path)
    rows = scores.rows()
    out.mkdir(parents=True, exist_ok=True)
    settings = wandb.Settings(silent=True, console="off", disable_git=True, save_code=False, disable_job_creation=True)
    runs = []
    for schedule, steps in series(rows, prefix).items():
        try:
            run = wandb.init(project=project, entity=entity, name=schedule, group=scores.manifest.path.name,
                             job_type="eval", dir=str(out), mode="online" if online else "offline",
                             config=run_config(scores, schedule, rows), settings=settings, reinit="create_new")
        except (wandb.errors.Error, OSError) as exc:  # no login, no network, a folder it cannot write
            raise CrevalError(f"wandb could not start a run: {type(exc).__name__}: {exc}") from None
        try:
            for step, values in steps.items():
                run.log(values, step=step)
        finally:
            run.finish()
        runs.append(ExportedRun(schedule, str(Path(run.dir).parent), list(steps), sum(len(v) for v in steps.values())))
    return runs
