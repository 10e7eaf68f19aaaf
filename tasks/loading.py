"""Loading task data with ``datasets``: a hub id when online, or a local file or directory offline.

Both go through ``datasets.load_dataset``: a local ``.jsonl``/``.json`` (optionally ``.gz``), ``.parquet``
or ``.csv`` file, or a directory of them, loads with the matching builder and ``data_files``, so a
local copy of a hub dataset in its original format gives the same rows.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from creval.errors import CrevalError

_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def _builder(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s not in (".gz", ".bz2", ".xz", ".zst")]
    if not suffixes or suffixes[-1] not in _BUILDERS:
        raise CrevalError(f"{path}: unknown data file type; expected .jsonl, .json, .parquet or .csv (optionally .gz)")
    return _BUILDERS[suffixes[-1]]


def _local_files(path: Path, split: str) -> tuple[str, list[str]]:
    if path.is_file():
        return _builder(path), [str(path)]
    candidates = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    usable = [p for p in candidates if any(s in _BUILDERS for s in p.suffixes)]
    chosen = [p for p in usable if split in p.name] or usable
    if not chosen:
        raise CrevalError(f"{path}: no .jsonl, .json, .parquet or .csv files in this directory")
    builders = {_builder(p) for p in chosen}
    if len(builders) > 1:
        raise CrevalError(f"{path}: mixed file types for split {split!r}: {sorted(p.name for p in chosen)}")
    return builders.pop(), [str(p) for p in chosen]


def load_rows(data: str, *, hub_id: str, config: str | None = None, split: str = "test") -> list[dict[str, Any]]:
    """Rows of ``data`` (a local path) or, when ``data`` is empty, of the hub dataset ``hub_id``."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    source = data or hub_id
    path = Path(os.path.expanduser(source))
    try:
        if path.exists():
            builder, data_files = _local_files(path, split)
            ds = datasets.load_dataset(builder, data_files={split: data_files}, split=split)
        else:
            ds = datasets.load_dataset(source, config, split=split)
    except CrevalError:
        raise
    except Exception as exc:
        where = f"dataset {source!r}" + (f" (config {config!r}, split {split!r})" if config else f" (split {split!r})")
        if not path.exists() and (os.sep in source and source.startswith((".", "/", "~"))):
            raise CrevalError(f"{where}: no such file or directory") from None
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CrevalError(
            f"{where} could not be loaded ({reason}). Offline, point the task at a local copy in the hub's "
            f"format: --tasks NAME:data=path/to/file.jsonl (JSON lines, Parquet or CSV, or a directory of them)"
        ) from None
    return [dict(row) for row in ds]


def require_columns(rows: list[dict[str, Any]], columns: list[str], source: str) -> None:
    if rows:
        missing = [c for c in columns if c not in rows[0]]
        if missing:
            raise CrevalError(f"{source}: missing column(s) {missing}; the rows have {sorted(rows[0])}")
