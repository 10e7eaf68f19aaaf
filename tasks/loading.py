"""Loading task data with ``datasets``: a hub id when online, or a local file or directory offline.

Both go through ``datasets.load_dataset``: a local ``.jsonl``/``.json`` (optionally ``.gz``), ``.parquet``
or ``.csv`` file, or a directory of them, loads with the matching builder and ``data_files``, so a
local copy of a hub dataset in its original format gives the same rows. In a directory, the files of a
split are the ones ``datasets`` itself assigns to it by name (``test.jsonl``, ``test-00000-of-00001.parquet``,
``data/test/...``; not ``contest.jsonl``); a split with no file is an error naming the splits there are.

Before a hub call, a quick check that the hub is reachable (``HF_ENDPOINT``, a 3-second TCP connect): with
no network the local-copy advice comes at once instead of after the hub client's retries.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from creval.errors import CrevalError
from creval.hub import offline_unless_reachable

_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def _builder(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s not in (".gz", ".bz2", ".xz", ".zst")]
    if not suffixes or suffixes[-1] not in _BUILDERS:
        raise CrevalError(f"{path}: unknown data file type; expected .jsonl, .json, .parquet or .csv (optionally .gz)")
    return _BUILDERS[suffixes[-1]]


def _local_files(path: Path, split: str) -> tuple[str, list[str]]:
    from datasets.data_files import DataFilesDict, get_data_patterns

    if path.is_file():
        return _builder(path), [str(path)]
    try:
        splits = DataFilesDict.from_patterns(get_data_patterns(str(path)), base_path=str(path))
    except Exception:  # datasets raises EmptyDatasetError / FileNotFoundError for a folder without data
        splits = DataFilesDict()
    found = {str(s): [Path(f) for f in files if any(x in _BUILDERS for x in Path(f).suffixes)] for s, files in splits.items()}
    found = {s: files for s, files in found.items() if files}
    if not found:
        raise CrevalError(f"{path}: no .jsonl, .json, .parquet or .csv files in this directory")
    chosen = found.get(split)
    if not chosen:
        there = "; ".join(f"{s}: {', '.join(sorted(f.name for f in files)[:3])}" for s, files in sorted(found.items()))
        raise CrevalError(f"{path}: no {split!r} split here (files are assigned to splits by name, as on the hub: "
                          f"{there}); name the file itself, e.g. data={path / (split + '.jsonl')}")
    builders = {_builder(p) for p in chosen}
    if len(builders) > 1:
        raise CrevalError(f"{path}: mixed file types for split {split!r}: {sorted(p.name for p in chosen)}")
    return builders.pop(), [str(p) for p in chosen]


def load_rows(data: str, *, hub_id: str, config: str | None = None, split: str = "test") -> list[dict[str, Any]]:
    """Rows of ``data`` (a local path) or, when ``data`` is empty, of the hub dataset ``hub_id``."""
    import datasets

    source = data or hub_id
    path = Path(os.path.expanduser(source))
    offline: str | None = None
    try:
        if path.exists():
            builder, data_files = _local_files(path, split)
            for file in data_files:
                if builder != "parquet" and Path(file).suffix in (".gz", ".jsonl", ".json", ".csv"):
                    _require_utf8(Path(file))
            ds = datasets.load_dataset(builder, data_files={split: data_files}, split=split)
        else:
            offline = offline_unless_reachable()
            ds = datasets.load_dataset(source, config, split=split)
    except CrevalError:
        raise
    except Exception as exc:
        where = f"dataset {source!r}" + (f" (config {config!r}, split {split!r})" if config else f" (split {split!r})")
        if not path.exists() and (os.sep in source and source.startswith((".", "/", "~"))):
            raise CrevalError(f"{where}: no such file or directory") from None
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if path.exists():  # a local file datasets cannot read (not UTF-8, not JSON lines, broken Parquet ...)
            raise CrevalError(f"{where} could not be read: {type(exc).__name__}: {first}") from None
        reason = f"{offline}; {first}" if offline else first
        raise CrevalError(
            f"{where} could not be loaded ({reason}). Offline, point the task at a local copy in the hub's "
            f"format: --tasks NAME:data=path/to/file.jsonl (JSON lines, Parquet or CSV, or a directory of them)"
        ) from None
    return [dict(row) for row in ds]


def _require_utf8(path: Path) -> None:
    """datasets reports a non-UTF-8 file as a bare DatasetGenerationError; say which file and where."""
    import codecs
    import gzip

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise CrevalError(f"{path}: not UTF-8 text (byte {offset + exc.start}: {exc.reason})") from None
            offset += len(chunk)


def require_columns(rows: list[dict[str, Any]], columns: list[str], source: str) -> None:
    if rows:
        missing = [c for c in columns if c not in rows[0]]
        if missing:
            raise CrevalError(f"{source}: missing column(s) {missing}; the rows have {sorted(rows[0])}")
