"""``creval demo``: a small trajectory of tiny real checkpoints, evaluated on the mini suite.

Until the RL testbed exists, the trajectory is synthetic but real: one random-init GPT-2 with its own
tokenizer (step 0), then copies whose output layer is sharpened by growing factors, as RL's
sharpening would. Every checkpoint is loaded, sampled, graded, scored and stored through the same
path as a user's; the printed trajectory shows entropy and diversity falling with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .records import GenerationConfig, RunResult
from .runner import DEFAULT_TASKS, run
from .tiny import build_checkpoint, sharpen

STEPS = {0: 1.0, 100: 2.0, 200: 4.0, 300: 8.0}
QUICK_STEPS = {0: 1.0, 300: 8.0}


@dataclass(frozen=True)
class DemoPoint:
    step: int
    factor: float
    result: RunResult

    def value(self, task: str, statistic: str) -> float:
        for cell in self.result.cells:
            if cell.task == task:
                for s in cell.summaries:
                    if s.statistic == statistic:
                        return s.mean
        return float("nan")


def build_trajectory(root: Path, steps: dict[int, float]) -> dict[int, Path]:
    """Checkpoints ``root/step-N`` (built once; re-runs reuse them, so the store finds their cells)."""
    base = root / "step-0"
    if not (base / "model.safetensors").is_file():
        build_checkpoint(base, seed=0)
    paths = {}
    for step, factor in steps.items():
        path = root / f"step-{step}"
        if not (path / "model.safetensors").is_file():
            sharpen(base, path, factor)
        paths[step] = path
    return paths


def demo(
    out: Path, *, quick: bool = False, progress: bool = False, on_point: Callable[[DemoPoint], None] | None = None
) -> list[DemoPoint]:
    steps = QUICK_STEPS if quick else STEPS
    config = GenerationConfig(n=4 if not quick else 2, max_new_tokens=32 if not quick else 16, seed=0)
    tasks = DEFAULT_TASKS if not quick else ("mini_math", "mini_writing")
    paths = build_trajectory(out / "checkpoints", steps)
    points = []
    for step, path in paths.items():
        result = run(str(path), tasks, config, out=str(out / "results"), progress=progress)
        point = DemoPoint(step, steps[step], result)
        points.append(point)
        if on_point:
            on_point(point)
    return points
