"""Several schedules and seeds in one process (process start costs seconds): per seed one warm-up,
shared by that seed's schedules (a controlled comparison), then each schedule's RL run, and one sweep
manifest naming every run's checkpoints with their stages, ready for ``creval sweep``."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable, Sequence

from .train import SCHEDULES, TrainConfig, build_policy, stage_spec, train, warmup

TASKS = ["toy_math", "toy_code", "toy_creative"]
METRICS = ["pass_at_k", "distinct_n", "self_bleu", "equivalence", "token_entropy"]


def run_experiment(schedules: Sequence[str], seeds: Sequence[int], out: Path, cfg: TrainConfig, *,
                   n: int = 8, on_progress: Callable[[str], None] | None = None) -> Path:
    """Train every schedule for every seed under ``out``; returns the sweep manifest written there."""
    from creval.backends.hf import quiet_transformers

    quiet_transformers()
    unknown = [s for s in schedules if s not in SCHEDULES]
    if unknown:
        from creval.errors import CrevalError

        raise CrevalError(f"unknown schedule(s) {unknown}; known: {', '.join(SCHEDULES)}")
    entries = []
    for seed in seeds:
        seed_cfg = dataclasses.replace(cfg, seed=seed, log=[])
        model, tok = build_policy(out / f"seed{seed}" / "tokenizer", seed)
        if on_progress:
            on_progress(f"seed {seed}: supervised warm-up ({cfg.warmup_steps} steps)")
        warmup(model, tok, seed_cfg)
        for schedule in schedules:
            if on_progress:
                on_progress(f"seed {seed}: {schedule}, {cfg.steps} RL steps")
            run_cfg = dataclasses.replace(seed_cfg, log=[])
            folder = out / f"seed{seed}" / schedule
            train(schedule, folder, run_cfg, warm=(model, tok))
            (folder / "train_log.json").write_text(json.dumps(run_cfg.log))
            name = schedule if len(seeds) == 1 else f"{schedule}-s{seed}"
            entries.append((name, folder, stage_spec(schedule, cfg.steps)))
    manifest = out / "sweep.yaml"
    lines = [f"tasks: {json.dumps(TASKS)}", f"metrics: {json.dumps(METRICS)}",
             f"generation: {{n: {n}, temperature: 1.0, max_new_tokens: {cfg.max_new_tokens}, seed: 0}}",
             "results: results", "schedules:"]
    for name, folder, stages in entries:
        lines += [f"  {name}:", f"    discover: {folder.resolve()}", f"    stages: {json.dumps(stages)}"]
    manifest.write_text("\n".join(lines) + "\n")
    return manifest
