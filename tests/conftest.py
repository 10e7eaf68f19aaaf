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


@pytest.fixture(scope="session")
def stored_reports(tiny_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The reports the leaderboard shows beside a sweep, as their commands write them (JSON text): a real
    weight-perturbation probe of the tiny checkpoint ("joint") and its fragile copy ("staged", the same
    function from a sharper point of weight space: ``tests/tiny.py``'s ``fragile``) on
    mini_math (n = 1, 4 tokens, two sigmas, one seed), and a recommendation that ``rank`` computes from
    synthetic pilot values (structured training costs writing 0.3; creative costs math 0.1)."""
    import json

    import numpy as np
    from tiny import fragile

    from creval.jsonsafe import finite
    from creval.leaderboards.recommend import rank
    from creval.probe import probe
    from creval.records import GenerationConfig

    sharp = fragile(tiny_ckpt, tmp_path_factory.mktemp("ckpt") / "fragile", 10.0)
    report = probe([("joint", str(tiny_ckpt)), ("staged", str(sharp))], ["mini_math"],
                   GenerationConfig(n=1, max_new_tokens=4), sigmas=[0.003, 0.03], seeds=[0],
                   statistics=["agreement", "pass@1"], out=str(tmp_path_factory.mktemp("probe")))
    prompts = [f"p{i}" for i in range(12)]

    def level(mean: float, seed: int) -> dict[str, float]:
        return {p: mean + float(e) for p, e in zip(prompts, np.random.default_rng(seed).normal(0, 0.02, len(prompts)))}

    start = {"mini_math": level(0.5, 0), "mini_writing": level(0.5, 1)}
    ranked = rank({"structured": ("math",), "creative": ("writing",)}, {"mini_math": "math", "mini_writing": "writing"},
                  {"structured": [(start, {"mini_math": level(0.9, 2), "mini_writing": level(0.2, 3)})],
                   "creative": [(start, {"mini_math": level(0.4, 4), "mini_writing": level(0.8, 5)})]})
    recommendation = {"manifest": "pilot.yaml", "statistics": {"structured": "pass@1", "writing": "distinct-2"}, **ranked}
    return {"probe": Path(report["path"]).read_text(), "recommendation": json.dumps(finite(recommendation))}


def write_reports(results: Path, reports: dict[str, str], rename: dict[str, str] | None = None) -> None:
    """Store ``stored_reports`` in a results directory where the commands write them, checkpoint names renamed."""
    import json

    texts = dict(reports)
    for old, new in (rename or {}).items():
        texts = {k: v.replace(json.dumps(old), json.dumps(new)) for k, v in texts.items()}
    (results / "probes").mkdir(exist_ok=True)
    (results / "recommendations").mkdir(exist_ok=True)
    (results / "probes" / "perturb-test.json").write_text(texts["probe"])
    (results / "recommendations" / "pilot.json").write_text(texts["recommendation"])
