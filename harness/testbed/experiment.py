"""Several schedules and seeds in one process (process start costs seconds): per seed one warm-up,
shared by that seed's schedules (a controlled comparison) and cached on disk for later runs, then each
schedule's RL run, and one sweep manifest naming every run's checkpoints with their stages, ready for
``creval sweep``. With ``progress``, a bar per warm-up and per RL run shows the loss, or the reward and
the policy's token entropy, at every step; without bars the same numbers go to the ``creval`` log (INFO)
every tenth of a run: a long run never looks stuck, in a terminal or in a CI log."""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from .policy import warm_policy
from .train import SCHEDULES, TrainConfig, stage_spec, train

log = logging.getLogger(__name__)
TASKS = ["toy_math", "toy_code", "toy_creative"]
METRICS = ["pass_at_k", "distinct_n", "self_bleu", "equivalence", "token_entropy"]


def run_experiment(schedules: Sequence[str], seeds: Sequence[int], out: Path, cfg: TrainConfig, *,
                   n: int = 8, on_progress: Callable[[str], None] | None = None, progress: bool = False,
                   cache: Path | None = None) -> Path:
    """Train every schedule for every seed under ``out``; returns the sweep manifest written there.
    ``cache``: where warm-ups are kept (default: the creval cache's ``testbed/``)."""
    from tqdm import tqdm

    from creval.checkpoints import cache_dir

    unknown = [s for s in schedules if s not in SCHEDULES]
    if unknown:
        from creval.errors import CrevalError

        raise CrevalError(f"unknown schedule(s) {unknown}; known: {', '.join(SCHEDULES)}")
    entries = []
    for seed in seeds:
        seed_cfg = dataclasses.replace(cfg, seed=seed, log=[])
        with tqdm(total=cfg.warmup_steps, desc=f"seed {seed} warm-up", disable=not progress, leave=False) as bar:
            done = [0]  # a disabled bar counts nothing

            def warm_step(loss: float, seed: int = seed, done: list[int] = done) -> None:
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                done[0] += 1
                if not progress and _tenth(done[0], cfg.warmup_steps):
                    log.info("seed %d warm-up: step %d/%d, loss %.3f", seed, done[0], cfg.warmup_steps, loss)

            model, tok, cached = warm_policy(seed, cfg.warmup_steps, cfg.warmup_lr, cache or cache_dir() / "testbed",
                                             on_step=warm_step)
        if on_progress:
            on_progress(f"seed {seed}: supervised warm-up ({cfg.warmup_steps} steps)"
                        + (", from the cache" if cached else ", cached for later runs"))
        for schedule in schedules:
            if on_progress:
                on_progress(f"seed {seed}: {schedule}, {cfg.steps} RL steps")
            run_cfg = dataclasses.replace(seed_cfg, log=[])
            folder = out / f"seed{seed}" / schedule
            with tqdm(total=cfg.steps, desc=f"seed {seed} {schedule}", disable=not progress, leave=False) as bar:
                def rl_progress(step: int, stats: dict, seed: int = seed, schedule: str = schedule) -> None:
                    bar.update()
                    bar.set_postfix({k: f"{v:.2f}" for k, v in stats.items()}, refresh=False)
                    if not progress and _tenth(step, cfg.steps):
                        shown = ", ".join(f"{k} {v:.2f}" for k, v in stats.items())
                        log.info("seed %d %s: step %d/%d, %s", seed, schedule, step, cfg.steps, shown)

                train(schedule, folder, run_cfg, warm=(model, tok), on_step=rl_progress)
            (folder / "train_log.json").write_text(json.dumps(run_cfg.log))
            name = schedule if len(seeds) == 1 else f"{schedule}-s{seed}"
            entries.append((name, folder, stage_spec(schedule, cfg.steps)))
    return write_manifest(out / "sweep.yaml", entries, n=n, max_new_tokens=cfg.max_new_tokens)


def write_manifest(path: Path, entries: Sequence[tuple[str, Path, list[dict]]], *, n: int, max_new_tokens: int) -> Path:
    """The sweep manifest of trained runs: (schedule name, its checkpoint folder, its stages) each."""
    import yaml

    manifest = {"tasks": TASKS, "metrics": METRICS,
                "generation": {"n": n, "temperature": 1.0, "max_new_tokens": max_new_tokens, "seed": 0},
                "results": "results",
                "schedules": {name: {"discover": str(folder.resolve()), "stages": stages} for name, folder, stages in entries}}
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


def _tenth(done: int, total: int) -> bool:
    """Whether step ``done`` of ``total`` ends a tenth of the run (and is the last step)."""
    every = max(1, total // 10)
    return done % every == 0 or done == total
