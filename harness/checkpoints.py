"""Checkpoints: resolve what the user named to a local directory, and fingerprint its contents.

The fingerprint is a sha256 over the files that decide what a model generates (weights, configs,
tokenizer, chat template) at the top level of the checkpoint directory; trainer state that sits beside
them (optimizer, scheduler, RNG state) is left out, so resuming a training run does not change it.
Each file's digest is cached by (real path, size, mtime_ns), so a multi-GB checkpoint is read once.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from .errors import CrevalError

_TRAINER_STATE = re.compile(
    r"^(optimizer.*|scheduler.*|rng_state.*|trainer_state\.json|training_args\.bin|"
    r"latest|zero_to_fp32\.py|README\.md|\..*)$"
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_CHUNK = 8 << 20


def cache_dir() -> Path:
    root = os.environ.get("CREVAL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "creval"
    )
    return Path(root)


def resolve_checkpoint(model: str) -> Path:
    """A local checkpoint directory for ``model``: a path, or a hub id fetched (or found in the cache)."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise CrevalError(f"checkpoint {model!r} is a file; expected a model directory with config.json")
        if not (path / "config.json").is_file():
            raise CrevalError(
                f"{model!r} is not a Hugging Face checkpoint: no config.json in {path.resolve()}"
            )
        return path.resolve()
    if model.startswith((".", "/", "~")) or model.endswith("/") or not _HUB_ID.match(model):
        raise CrevalError(f"checkpoint not found: {model!r} (no such directory)")
    return _fetch_from_hub(model)


def _fetch_from_hub(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:  # pragma: no cover - comes with transformers
        raise CrevalError(f"checkpoint not found: {repo_id!r}; install creval[hf] to load hub models") from err
    from .hub import offline_unless_reachable

    offline = offline_unless_reachable()  # no network: a cached snapshot still loads, a missing one fails now
    try:
        local = snapshot_download(
            repo_id, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.py"]
        )
    except Exception as exc:  # network off, unknown repo, gated repo ...
        raise CrevalError(
            f"checkpoint not found: {repo_id!r} is not a local directory and could not be fetched from "
            f"the hub ({offline or type(exc).__name__}); pass the path of a local checkpoint"
        ) from None
    return resolve_checkpoint(local)


def model_files(ckpt: Path) -> list[Path]:
    return sorted(
        p for p in ckpt.iterdir() if p.is_file() and not _TRAINER_STATE.match(p.name)
    )


def fingerprint(ckpt: Path) -> str:
    """sha256 (hex, 16 chars) over (name, content digest) of every model file in ``ckpt``."""
    cache = _DigestCache(cache_dir() / "file-digests.json")
    outer = hashlib.sha256()
    for f in model_files(ckpt):
        outer.update(f.name.encode() + b"\0" + cache.digest(f).encode() + b"\n")
    cache.save()
    return outer.hexdigest()[:16]


class _DigestCache:
    """File digests keyed by real path, size and mtime; a stale or unreadable cache is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dirty = False
        try:
            self.entries: dict[str, str] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def digest(self, f: Path) -> str:
        st = f.stat()
        key = f"{os.path.realpath(f)}|{st.st_size}|{st.st_mtime_ns}"
        if key not in self.entries:
            h = hashlib.sha256()
            with open(f, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    h.update(chunk)
            self.entries[key] = h.hexdigest()
            self.dirty = True
        return self.entries[key]

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.entries))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only cache only costs re-hashing next time
