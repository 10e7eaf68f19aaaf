"""``creval demo``: the testbed end to end, offline, on a CPU.

Trains tiny policies with RL under three schedules (structured-only, the control that isolates what
structured RL does, then structured-first and creative-first) from one shared warm-up (cached: a
re-run or the other mode of the same seed loads it), sweeps every checkpoint with the normal harness
(toy math, toy code in the sandbox, toy creative writing), and builds the leaderboard site.
Re-running finds the checkpoints and the cells already there and only rebuilds the site.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .manifest import load_manifest
from .sweep import sweep
from .testbed.experiment import run_experiment
from .testbed.train import TrainConfig

SCHEDULES = ("structured-only", "structured-first", "creative-first")
# the configuration measured to reach the collapse regime (docs/testbed.md); --quick is a smoke run
# whose warm-up is too short to reach it (the collapse itself is tested on its own, tests/test_testbed.py)
FULL = TrainConfig(steps=300, every=50, warmup_steps=1500)
QUICK = TrainConfig(steps=20, every=10, warmup_steps=300)


@dataclass
class DemoResult:
    manifest: Path
    site: Path
    board: dict[str, Any]
    trained: bool


def _trained(manifest: Path) -> bool:
    if not manifest.is_file():
        return False
    m = load_manifest(manifest)
    return all(len(s.checkpoints()) > 1 for s in m.schedules)


def demo(out: Path, *, quick: bool = False, progress: bool = False, on_progress: Callable[[str], None] | None = None) -> DemoResult:
    from .leaderboards.build import build

    cfg = QUICK if quick else FULL
    manifest = out / "sweep.yaml"
    trained = not _trained(manifest)
    if trained:
        manifest = run_experiment(SCHEDULES, [0], out, cfg, n=4 if quick else 8, on_progress=on_progress,
                                  progress=progress)
    if on_progress:
        on_progress("sweeping every checkpoint (creval sweep)")
    sweep(load_manifest(manifest), progress=progress)
    if on_progress:
        on_progress("building the leaderboard")
    board = build(out / "results", manifest, out / "site")  # the diversity statistic: the automatic choice
    return DemoResult(manifest, out / "site", board, trained)
