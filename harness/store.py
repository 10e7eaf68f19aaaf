"""The results store: immutable Parquet files, one directory per cell, every write atomic.

    results/cells/<cell_key>/generations.parquet      one row per (prompt, sample)
    results/cells/<cell_key>/grades-<task_hash>.parquet one row per (prompt, sample)
    results/cells/<cell_key>/scores-<score_key>.parquet one row per (prompt, statistic)

A cell key hashes (checkpoint fingerprint, prompt-set hash, generation-config hash, backend signature):
everything that decides the generations, and nothing else, so fixing a grader or adding a metric
rescores a cell without regenerating it. Grades and scores record the ``generation_id`` of the
generations they were computed from; after ``--force`` regenerates a cell, older ones no longer match
and are recomputed. Each file's schema metadata (key ``creval``) holds its provenance as JSON.
Files are written to a hidden temporary name and renamed into place, so a crash never leaves a
partial file under a real name; readers ignore hidden files, and the next write into the same cell
removes the temporary files of writers that were killed.
"""
from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from .hashing import stable_hash

_META_KEY = b"creval"
_HOST = socket.gethostname().replace(".", "-")


def _remove_orphans(folder: Path) -> None:
    """Delete temporary files left by a writer of this host that was killed mid-write (its process is
    gone); a write that is still going on, or one from another host, is left alone."""
    for tmp in folder.glob(".*.tmp"):
        parts = tmp.name.split(".")
        if len(parts) < 5 or parts[-4] != _HOST or not parts[-3].isdigit():
            continue
        try:
            os.kill(int(parts[-3]), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except PermissionError:
            pass


def cell_key(fingerprint: str, prompts_hash: str, config_hash: str, backend_signature: str) -> str:
    return stable_hash(
        {"checkpoint": fingerprint, "prompts": prompts_hash, "config": config_hash, "backend": backend_signature}
    )


class Store:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def cell_dir(self, key: str) -> Path:
        return self.root / "cells" / key

    # generations -------------------------------------------------------------------------------
    def generations_path(self, key: str) -> Path:
        return self.cell_dir(key) / "generations.parquet"

    def has_generations(self, key: str) -> bool:
        return self.generations_path(key).is_file()

    def write_generations(self, key: str, table: pa.Table, meta: Mapping[str, Any]) -> str:
        """Write a cell's generations; returns the new generation id recorded in its metadata."""
        generation_id = uuid.uuid4().hex
        self._write(self.generations_path(key), table, {**meta, "cell_key": key, "generation_id": generation_id})
        return generation_id

    def read_generations(self, key: str) -> tuple[pa.Table, dict[str, Any]]:
        return self._read(self.generations_path(key))

    # grades and scores -------------------------------------------------------------------------
    def grades_path(self, key: str, task_hash: str) -> Path:
        return self.cell_dir(key) / f"grades-{task_hash}.parquet"

    def scores_path(self, key: str, score_key: str) -> Path:
        return self.cell_dir(key) / f"scores-{score_key}.parquet"

    def read_derived(self, path: Path, generation_id: str) -> pa.Table | None:
        """A grades or scores table computed from ``generation_id``, or None if missing or stale."""
        if not path.is_file():
            return None
        table, meta = self._read(path)
        return table if meta.get("generation_id") == generation_id else None

    def write_derived(self, path: Path, table: pa.Table, meta: Mapping[str, Any], generation_id: str) -> None:
        self._write(path, table, {**meta, "generation_id": generation_id})

    # plumbing ----------------------------------------------------------------------------------
    def cells(self) -> list[str]:
        root = self.root / "cells"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "generations.parquet").is_file())

    @staticmethod
    def _write(path: Path, table: pa.Table, meta: Mapping[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(path.parent)
        table = table.replace_schema_metadata({_META_KEY: json.dumps(meta, sort_keys=True).encode()})
        tmp = path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _read(path: Path) -> tuple[pa.Table, dict[str, Any]]:
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(_META_KEY, b"{}")
        return table.replace_schema_metadata(None), json.loads(raw)
