"""Fixtures: tiny real checkpoints built on the fly (a few seconds, no download), an isolated cache."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
# No network in tests; set before anything imports huggingface_hub, which reads it once at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["CREVAL_CACHE_DIR"] = str(tmp_path_factory.mktemp("creval-cache"))


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny import build_checkpoint

    return build_checkpoint(tmp_path_factory.mktemp("ckpt") / "base", seed=0)


@pytest.fixture(scope="session")
def sharp_ckpt(tiny_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny import sharpen

    return sharpen(tiny_ckpt, tmp_path_factory.mktemp("ckpt") / "sharp", 4.0)


@pytest.fixture(scope="session")
def plain_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint whose tokenizer has no chat template."""
    from tiny import build_checkpoint

    return build_checkpoint(tmp_path_factory.mktemp("ckpt") / "plain", seed=1, chat=False)


def sharpened_sweep(root: Path, schedules: dict[str, tuple[float, ...]], *, tasks: str = "[mini_math, mini_writing]",
                    metrics: str = "[pass_at_k, distinct_n, token_entropy]", stages: dict[str, str] | None = None) -> Path:
    """A sweep manifest over tiny real checkpoints: per schedule, copies of one random-init model
    sharpened by the given factors (steps 0, 100, 200, ...), so entropy falls along each trajectory."""
    from tiny import build_checkpoint, sharpen

    base = build_checkpoint(root / "base")
    lines = [f"tasks: {tasks}", f"metrics: {metrics}", "generation: {n: 2, max_new_tokens: 6}",
             f"results: {root / 'results'}", "schedules:"]
    for name, factors in schedules.items():
        lines.append(f"  {name}:")
        if stages and name in stages:
            lines.append(f"    stages: {stages[name]}")
        lines.append("    checkpoints:")
        for i, f in enumerate(factors):
            lines.append(f"      - {{path: {sharpen(base, root / name / f'step-{i}', f)}, step: {i * 100}}}")
    manifest = root / "sweep.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


@pytest.fixture(scope="session")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A finished sweep over tiny real checkpoints, shared by the leaderboard and export tests: schedules
    ``joint`` and ``staged`` (two stages), steps 0, 100, 200, tasks mini_math and mini_writing.
    Returns (root, manifest); the store is ``root / "results"``. Tests must leave it as they found it."""
    from creval.manifest import load_manifest
    from creval.sweep import sweep

    root = tmp_path_factory.mktemp("board")
    stages = {"staged": "[{name: structured, until: 150, families: [math]}, {name: creative, families: [writing]}]"}
    manifest = sharpened_sweep(root, {"joint": (1.0, 2.0, 4.0), "staged": (1.0, 3.0, 8.0)}, stages=stages)
    sweep(load_manifest(manifest))
    return root, manifest
