"""Sweep manifests: which schedules, which checkpoints (listed, or discovered in trainer layouts), which
tasks, generation config and backend. Every mistake is reported with the file and the field.

```yaml
tasks: [mini_math, mini_writing]          # task specs, as --tasks takes them
metrics: [pass_at_k, distinct_n]          # optional; default: creval run's
generation: {n: 8, temperature: 1.0, max_new_tokens: 256, seed: 0, top_p: 1.0, stop: []}
backend: hf                               # optional; backend_options: {...}
results: results/                         # optional; relative to the manifest's folder
schedules:
  joint:
    checkpoints:                          # listed ...
      - {path: ckpts/joint/step-0, step: 0, stage: warmup}
      - {path: ckpts/joint/step-100, step: 100}
  structured-first:
    discover: ckpts/sf/                   # ... or discovered: checkpoint-N/, global_step_N/, step_N/
    stages: [{name: structured, until: 400, families: [math, code]}, {name: creative, families: [writing]}]
```

Discovery knows the layouts trainers write: Hugging Face Trainer / TRL ``checkpoint-N/``, verl
``global_step_N/actor/huggingface/``, OpenRLHF ``global_stepN/`` (its Hugging Face export, or the
folder itself), and plain ``step_N/`` / ``step-N/``; the step is parsed from the name. A discovered
checkpoint counts only once it is complete: ``config.json`` and every weight file present (all the
shards an index names), and nothing in it changed for ``settle`` seconds (``--watch``: training may
still be writing it).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CrevalError
from .records import GenerationConfig

TOP_KEYS = {"tasks", "metrics", "generation", "backend", "backend_options", "results", "schedules"}
SCHEDULE_KEYS = {"checkpoints", "discover", "stages"}
CHECKPOINT_KEYS = {"path", "step", "stage"}
GENERATION_KEYS = {"n", "temperature", "top_p", "max_new_tokens", "seed", "stop"}
_LAYOUTS = [re.compile(p) for p in (r"^checkpoint-(\d+)$", r"^global_step_?(\d+)$", r"^step[_-]?(\d+)$")]
_SUBDIRS = ("actor/huggingface", "huggingface", "hf", "")


@dataclass(frozen=True)
class Checkpoint:
    schedule: str
    step: int
    path: Path
    stage: str | None = None


@dataclass
class Schedule:
    name: str
    listed: list[Checkpoint] = field(default_factory=list)
    discover: Path | None = None
    stages: list[tuple[str, int | None]] = field(default_factory=list)
    domains: dict[str, list[str]] = field(default_factory=dict)  # stage -> task families it trains

    def stage_of(self, step: int) -> str | None:
        for name, until in self.stages:
            if until is None or step < until:
                return name
        return None

    def checkpoints(self, settle: float = 0.0) -> list[Checkpoint]:
        """Listed checkpoints, or the complete ones discovered now, by step."""
        if self.discover is None:
            return sorted(self.listed, key=lambda c: c.step)
        found = []
        for step, path in discover(self.discover, settle):
            found.append(Checkpoint(self.name, step, path, self.stage_of(step)))
        return found


@dataclass
class Manifest:
    path: Path
    tasks: list[str]
    metrics: list[str] | None
    config: GenerationConfig
    backend: str
    backend_options: dict[str, Any]
    results: Path
    schedules: list[Schedule]


def _fail(path: Path, where: str, message: str) -> CrevalError:
    return CrevalError(f"{path}: {where}: {message}")


def _check_keys(path: Path, where: str, value: Any, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, where, f"expected a mapping, got {type(value).__name__}")
    for key in value:
        if key not in allowed:
            raise _fail(path, where, f"unknown key {key!r} (known: {', '.join(sorted(allowed))})")
    return value


def load_manifest(path: str | Path) -> Manifest:
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CrevalError(f"{path}: cannot read manifest ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CrevalError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    top = _check_keys(path, "top level", raw, TOP_KEYS)
    base = path.parent
    tasks = top.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
        raise _fail(path, "tasks", "expected a non-empty list of task names")
    metrics = top.get("metrics")
    if metrics is not None and (not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics)):
        raise _fail(path, "metrics", "expected a list of metric specs")
    gen = _check_keys(path, "generation", top.get("generation") or {}, GENERATION_KEYS)
    try:
        config = GenerationConfig(**{**gen, "stop": tuple(gen.get("stop") or ())})
    except (TypeError, CrevalError) as exc:
        raise _fail(path, "generation", str(exc)) from None
    schedules_raw = top.get("schedules")
    if not isinstance(schedules_raw, dict) or not schedules_raw:
        raise _fail(path, "schedules", "expected a mapping of schedule names to checkpoints")
    schedules = [_schedule(path, base, name, value) for name, value in schedules_raw.items()]
    results = Path(top.get("results") or "results")
    return Manifest(path, tasks, metrics, config, str(top.get("backend") or "hf"),
                    dict(top.get("backend_options") or {}), results if results.is_absolute() else base / results,
                    schedules)


def _schedule(path: Path, base: Path, name: str, value: Any) -> Schedule:
    where = f"schedules.{name}"
    spec = _check_keys(path, where, value, SCHEDULE_KEYS)
    if ("checkpoints" in spec) == ("discover" in spec):
        raise _fail(path, where, "give either checkpoints (a list) or discover (a folder)")
    schedule = Schedule(name)
    for i, stage in enumerate(spec.get("stages") or []):
        stage = _check_keys(path, f"{where}.stages[{i}]", stage, {"name", "until", "families"})
        if "name" not in stage:
            raise _fail(path, f"{where}.stages[{i}]", "missing key 'name'")
        schedule.stages.append((str(stage["name"]), stage.get("until")))
        families = stage.get("families") or []
        if not isinstance(families, list) or not set(families) <= {"math", "code", "writing"}:
            raise _fail(path, f"{where}.stages[{i}].families", "expected a list of math, code, writing")
        schedule.domains[str(stage["name"])] = families
    if "discover" in spec:
        folder = Path(str(spec["discover"]))
        schedule.discover = folder if folder.is_absolute() else base / folder
        return schedule
    if not isinstance(spec["checkpoints"], list) or not spec["checkpoints"]:
        raise _fail(path, f"{where}.checkpoints", "expected a non-empty list")
    seen: dict[int, int] = {}
    for i, item in enumerate(spec["checkpoints"]):
        item = _check_keys(path, f"{where}.checkpoints[{i}]", item, CHECKPOINT_KEYS)
        for key in ("path", "step"):
            if key not in item:
                raise _fail(path, f"{where}.checkpoints[{i}]", f"missing key {key!r}")
        if not isinstance(item["step"], int) or isinstance(item["step"], bool):
            raise _fail(path, f"{where}.checkpoints[{i}].step", f"expected an integer, got {item['step']!r}")
        if item["step"] in seen:
            raise _fail(path, f"{where}.checkpoints[{i}].step",
                        f"step {item['step']} is already checkpoints[{seen[item['step']]}]")
        seen[item["step"]] = i
        ckpt = Path(str(item["path"]))
        schedule.listed.append(Checkpoint(name, item["step"], ckpt if ckpt.is_absolute() else base / ckpt,
                                          item.get("stage") or schedule.stage_of(item["step"])))
    return schedule


def _model_dir(folder: Path) -> Path | None:
    for sub in _SUBDIRS:
        candidate = folder / sub if sub else folder
        if (candidate / "config.json").is_file():
            return candidate
    return None


def is_complete(folder: Path, settle: float = 0.0) -> bool:
    """config.json, every weight file (all shards an index names), and no change for ``settle`` seconds."""
    import json

    if not (folder / "config.json").is_file():
        return False
    for index in list(folder.glob("*.index.json")):
        try:
            shards = set(json.loads(index.read_text()).get("weight_map", {}).values())
        except (OSError, ValueError):
            return False
        if not all((folder / s).is_file() for s in shards):
            return False
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("pytorch_model*.bin")):
        return False
    if settle > 0:
        newest = max(p.stat().st_mtime for p in folder.iterdir())
        return time.time() - newest >= settle
    return True


def discover(root: Path, settle: float = 0.0) -> list[tuple[int, Path]]:
    """(step, model folder) of every complete checkpoint under ``root``, by step."""
    if not root.is_dir():
        return []
    found: dict[int, Path] = {}
    for child in root.iterdir():
        for layout in _LAYOUTS:
            match = layout.match(child.name)
            if match and child.is_dir():
                model = _model_dir(child)
                if model is not None and is_complete(model, settle):
                    found.setdefault(int(match.group(1)), model)
                break
    return sorted(found.items())
