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

from pydantic import Field, field_validator, model_validator

from .errors import CrevalError
from .records import MAX_NEW_TOKENS, Family, GenerationConfig
from .validation import Strict, parse, read_yaml

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


class StageSpec(Strict):
    name: str
    until: int | None = Field(None, ge=0)
    families: list[Family] = Field(default_factory=list)


class CheckpointSpec(Strict):
    path: str
    step: int = Field(ge=0)
    stage: str | None = None


class ScheduleSpec(Strict):
    checkpoints: list[CheckpointSpec] | None = Field(None, min_length=1)
    discover: str | None = None
    stages: list[StageSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("checkpoints" in data) == ("discover" in data):
            raise ValueError("give either checkpoints (a list) or discover (a folder)")
        return data


class GenerationSpec(Strict):
    """Only what the manifest sets; the rest keeps ``GenerationConfig``'s defaults."""

    n: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, allow_inf_nan=False)
    top_p: float | None = Field(None, gt=0, le=1)
    max_new_tokens: int | None = Field(None, ge=1, le=MAX_NEW_TOKENS)
    seed: int | None = None
    stop: list[str] | None = None


class ManifestSpec(Strict):
    tasks: list[str] = Field(min_length=1)
    metrics: list[str] | None = None
    generation: GenerationSpec | None = None
    backend: str | None = None
    backend_options: dict[str, Any] | None = None
    results: str | None = None
    schedules: dict[str, ScheduleSpec] = Field(min_length=1)

    @field_validator("schedules")
    @classmethod
    def _names(cls, value: dict[str, ScheduleSpec]) -> dict[str, ScheduleSpec]:
        for name in value:  # names go into plots (matplotlib reads $ as math), file names and URLs
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):
                raise ValueError(f"schedule name {name!r}: expected letters, digits, _ . + - (starting with a letter or digit)")
        return value


def load_manifest(path: str | Path, *, watching: bool = False) -> Manifest:
    """The manifest at ``path``, checked: every field's type, every folder it names. A ``discover`` folder
    may be missing only when ``watching`` (training has not written it yet)."""
    path = Path(path)
    raw = read_yaml(path, "manifest")
    spec = parse(ManifestSpec, raw, path)
    base = path.parent
    gen = spec.generation.model_dump(exclude_none=True) if spec.generation else {}
    config = GenerationConfig(**{**gen, "stop": tuple(gen.get("stop") or ())})
    results = _folder(base, spec.results or "results")
    if (results.exists() and not results.is_dir()) or any(p.is_file() for p in results.parents):
        raise CrevalError(f"{path}: results: {results} is not a folder")
    schedules = [_schedule(path, base, name, value, watching) for name, value in spec.schedules.items()]
    return Manifest(path, list(spec.tasks), spec.metrics, config, spec.backend or "hf", dict(spec.backend_options or {}),
                    results, schedules)


def _folder(base: Path, text: str) -> Path:
    folder = Path(text).expanduser()
    return folder if folder.is_absolute() else base / folder


def _schedule(path: Path, base: Path, name: str, spec: ScheduleSpec, watching: bool) -> Schedule:
    where = f"schedules.{name}"
    schedule = Schedule(name)
    for stage in spec.stages:
        schedule.stages.append((stage.name, stage.until))
        schedule.domains[stage.name] = list(stage.families)
    if spec.discover is not None:
        schedule.discover = _folder(base, spec.discover)
        if not watching and not schedule.discover.is_dir():
            raise CrevalError(f"{path}: {where}.discover: no such folder: {schedule.discover}")
        return schedule
    seen: dict[int, int] = {}
    for i, item in enumerate(spec.checkpoints or []):
        if item.step in seen:
            raise CrevalError(f"{path}: {where}.checkpoints.{i}.step: step {item.step} is already checkpoints.{seen[item.step]}")
        seen[item.step] = i
        schedule.listed.append(Checkpoint(name, item.step, _folder(base, item.path),
                                          item.stage or schedule.stage_of(item.step)))
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
