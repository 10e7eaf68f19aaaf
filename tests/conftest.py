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
    from creval.tiny import build_checkpoint

    return build_checkpoint(tmp_path_factory.mktemp("ckpt") / "base", seed=0)


@pytest.fixture(scope="session")
def sharp_ckpt(tiny_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from creval.tiny import sharpen

    return sharpen(tiny_ckpt, tmp_path_factory.mktemp("ckpt") / "sharp", 4.0)


@pytest.fixture(scope="session")
def plain_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint whose tokenizer has no chat template."""
    from creval.tiny import build_checkpoint

    return build_checkpoint(tmp_path_factory.mktemp("ckpt") / "plain", seed=1, chat=False)
