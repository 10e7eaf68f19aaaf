"""The results store: immutable Parquet files, one directory per cell, every write atomic.

    results/store.json                                  {"layout": 2}: the layout version
    results/cells/<cell_key>/generations.parquet        one row per (prompt, sample)
    results/cells/<cell_key>/grades-<task_hash>.parquet one row per (prompt, sample)
    results/cells/<cell_key>/scores-<score_key>.parquet one row per (prompt, statistic)
    results/cells/<cell_key>/cell.json                  the cell manifest, written last
    results/places.json                                 the sweep index: (schedule, step, task) -> cell key
    results/.locks/<cell_key>.lock                      held while a process works on the cell
    results/damaged/                                    damaged cells and files, set aside (never deleted)

This module alone knows the cell key and the file names inside a cell; everything else goes through
``Store``. A cell key hashes (checkpoint fingerprint, prompt-set hash, generation-config hash, backend
signature): everything that decides the generations, and nothing else, so fixing a grader or adding a
metric rescores a cell without regenerating it. Grades and scores record the ``generation_id`` of the
generations they were computed from; after ``--force`` regenerates a cell, older ones no longer match.

A cell is a unit of truth: it is done only when its manifest (``cell.json``, written last by an atomic
rename) is valid and lists the grades and scores asked for; the manifest records each file's size, so
checking a cell costs a few ``stat`` calls. A cell whose writer was killed has files but no manifest
(partial): a resumed sweep grades and scores what is missing without regenerating. Files are written
to a hidden temporary name and renamed into place; the next write into the same cell removes the
temporary files of writers that were killed. Layout 1 (no ``store.json``, no cell manifests) is
migrated on first use: each readable cell gets its manifest; damaged ones are left as they are, and
show as partial or corrupt.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .atomic import remove_orphans, replace_atomically, write_json
from .errors import CrevalError
from .hashing import stable_hash

LAYOUT = 2
_META_KEY = b"creval"
_GENERATIONS = "generations.parquet"
_MANIFEST = "cell.json"
_PLACES = "places.json"  # the sweep index


def cell_key(fingerprint: str, prompts_hash: str, config_hash: str, backend_signature: str) -> str:
    return stable_hash(
        {"checkpoint": fingerprint, "prompts": prompts_hash, "config": config_hash, "backend": backend_signature}
    )


def task_cell_key(fingerprint: str, task: Any, config: Any, backend_signature: str) -> str:
    """The key of ``task``'s cell: its prompts, generated with ``config`` plus the task's stop strings."""
    return cell_key(fingerprint, task.prompts_hash, task_config(config, task).hash(), backend_signature)


def task_config(config: Any, task: Any) -> Any:
    """The run's config with the task's own stop strings added: what the task's cell is generated with."""
    import dataclasses

    return dataclasses.replace(config, stop=tuple(dict.fromkeys(config.stop + task.stop)))


def generations_file(path: Path) -> Path:
    """The generations file of a cell directory (a path that is not a directory is returned as it is)."""
    path = Path(path)
    return path / _GENERATIONS if path.is_dir() else path


def read_table(path: Path) -> pa.Table:
    """A creval Parquet file read outside a store (``audit-grader --generations``); CrevalError if it is
    missing or not Parquet. A file inside a stored cell is read as the store reads it (its provenance
    checked too, and the error names the cell and how to repair it)."""
    path = Path(path)
    if path.parent.parent.name == "cells":
        return Store._read(path)[0]
    try:
        return pq.read_table(path).replace_schema_metadata(None)
    except FileNotFoundError:
        raise CrevalError(f"{path}: no such file") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise CrevalError(f"{path}: not a creval generations table ({str(exc).splitlines()[0][:200]})") from None


class Store:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._layout_checked = False

    @classmethod
    def locate(cls, path: Path) -> tuple[Store, list[str]]:
        """A results directory (all its cells) or one cell directory of one."""
        path = Path(path)
        if (path / _GENERATIONS).is_file():
            return cls(path.parent.parent), [path.name]
        store = cls(path)
        store.check_layout()
        return store, store.cells()

    def exists(self) -> bool:
        """Whether ``root`` holds a store (its cells folder)."""
        return (self.root / "cells").is_dir()

    def cell_dir(self, key: str) -> Path:
        return self.root / "cells" / key

    def lock(self, key: str) -> Any:
        """The cell's lock (a ``filelock.FileLock``): held while a cell is generated, graded, scored."""
        from filelock import FileLock

        folder = self.root / ".locks"
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(folder / f"{key}.lock"))

    def remove_if_unused(self) -> None:
        """Remove a results directory that holds nothing but lock files (a run that wrote nothing)."""
        if self.root.is_dir() and {p.name for p in self.root.iterdir()} <= {".locks"}:
            shutil.rmtree(self.root, ignore_errors=True)

    # generations -------------------------------------------------------------------------------
    def generations_path(self, key: str) -> Path:
        return self.cell_dir(key) / _GENERATIONS

    def has_generations(self, key: str) -> bool:
        return self.generations_path(key).is_file()

    def usable_generations(self, key: str) -> bool:
        """Whether the cell's generations can be reused; a damaged cell is set aside (False)."""
        if self._manifest(key) is not None:
            return True
        if not self.has_generations(key):
            return False
        try:
            self._read(self.generations_path(key), schema_only=True)
            return True
        except CrevalError:
            self.set_aside(key)
            return False

    def write_generations(self, key: str, table: pa.Table, meta: Mapping[str, Any]) -> str:
        """Write a cell's generations; returns the new generation id recorded in its metadata."""
        (self.cell_dir(key) / _MANIFEST).unlink(missing_ok=True)  # the cell is not done until scored again
        generation_id = uuid.uuid4().hex
        self._write(self.generations_path(key), table, {**meta, "cell_key": key, "generation_id": generation_id})
        return generation_id

    def read_generations(self, key: str) -> tuple[pa.Table, dict[str, Any]]:
        table, meta = self._read(self.generations_path(key))
        if not isinstance(meta.get("generation_id"), str) or not isinstance(meta.get("task"), dict):
            raise CrevalError(f"cell {key}: {_GENERATIONS} has damaged provenance (no generation id or task); "
                              f"`creval store verify --repair {self.root}` sets it aside")
        return table, meta

    # grades and scores -------------------------------------------------------------------------
    def grades_path(self, key: str, task_hash: str) -> Path:
        return self.cell_dir(key) / f"grades-{task_hash}.parquet"

    def scores_path(self, key: str, score_key: str) -> Path:
        return self.cell_dir(key) / f"scores-{score_key}.parquet"

    def read_derived(self, path: Path, generation_id: str) -> pa.Table | None:
        """A grades or scores table computed from ``generation_id``, or None if missing or stale (or
        damaged: then it is set aside, to be computed again)."""
        if not path.is_file():
            return None
        try:
            table, meta = self._read(path)
        except CrevalError:
            self.set_aside(path.parent.name, path.name)
            return None
        return table if meta.get("generation_id") == generation_id else None

    def write_derived(self, path: Path, table: pa.Table, meta: Mapping[str, Any], generation_id: str) -> None:
        self._write(path, table, {**meta, "generation_id": generation_id})

    def current_grades(self, key: str) -> pa.Table | None:
        """The grades of the cell's current grader (the task hash its manifest names)."""
        manifest = self._manifest(key) or {}
        task_hash = manifest.get("task_hash")
        if not task_hash:
            return None
        table, meta = self._read(self.grades_path(key, task_hash))
        return table if meta.get("generation_id") == manifest["generation_id"] else None

    def current_scores(self, key: str, generation_id: str) -> Iterator[pa.Table]:
        """The cell's scores computed from ``generation_id`` for its current task hash (the one its
        manifest names; all of them in a cell without a manifest)."""
        manifest = self._manifest(key)
        if manifest is not None:
            names = [n for n, f in manifest["files"].items()
                     if n.startswith("scores-") and str(manifest.get("task_hash")).startswith(f.get("task_hash", ""))]
        else:
            names = sorted(p.name for p in self.cell_dir(key).glob("scores-*.parquet"))
        for name in names:
            table, meta = self._read(self.cell_dir(key) / name)
            if meta.get("generation_id") == generation_id:
                yield table

    # cell manifests ----------------------------------------------------------------------------
    def finish_cell(self, key: str, task_hash: str) -> None:
        """Write the cell manifest, last: every file computed from the current generations, its size and
        rows, and ``task_hash``, the grader the cell was last scored with."""
        folder = self.cell_dir(key)
        _, gen_meta = self._read(self.generations_path(key), schema_only=True)
        gen_id = gen_meta["generation_id"]
        files: dict[str, dict[str, Any]] = {}
        for path in sorted(folder.glob("*.parquet")):
            _, meta = self._read(path, schema_only=True)
            if meta.get("generation_id") != gen_id:
                continue
            entry: dict[str, Any] = {"size": path.stat().st_size, "rows": pq.read_metadata(path).num_rows}
            # the grader it was computed with; files of layout 1 name it only in their task ref (name@v:hash8)
            task = meta.get("task_hash") or str(meta.get("task", "")).rpartition(":")[2]
            if task and path.name != _GENERATIONS:
                entry["task_hash"] = task
            files[path.name] = entry
        write_json(folder / _MANIFEST, {"layout": LAYOUT, "cell_key": key, "generation_id": gen_id,
                                         "task_hash": task_hash, "files": files})

    def _manifest(self, key: str) -> dict[str, Any] | None:
        """The cell manifest if it is valid: parsable, and every file it lists has its recorded size."""
        folder = self.cell_dir(key)
        try:
            manifest = json.loads((folder / _MANIFEST).read_text())
            for name, info in manifest["files"].items():
                if (folder / name).stat().st_size != info["size"]:
                    return None
            return manifest if _GENERATIONS in manifest["files"] else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def state(self, key: str, task_hash: str, score_keys: Sequence[str] = ()) -> tuple[str, str]:
        """(state, reason): ``done`` (a valid manifest lists the grades of ``task_hash`` and every score
        file of ``score_keys``), ``partial`` (readable files, some missing), ``corrupt`` (a file is
        damaged) or ``missing`` (no generations). Cheap: a manifest and a few ``stat`` calls."""
        self.check_layout()
        manifest = self._manifest(key)
        if manifest is not None:
            wanted = [self.grades_path(key, task_hash).name] + [self.scores_path(key, s).name for s in score_keys]
            absent = [n for n in wanted if n not in manifest["files"]]
            return ("partial", f"not yet computed: {', '.join(absent)}") if absent else ("done", "")
        if not self.has_generations(key):
            return "missing", ""
        problems = self.verify(key, deep=False)
        if problems:
            return "corrupt", problems[0]
        return "partial", "interrupted before the cell manifest was written"

    def is_finished(self, key: str) -> bool:
        """Whether the cell has a valid manifest (done for whatever grades and scores it lists)."""
        return self._manifest(key) is not None

    # the sweep index ---------------------------------------------------------------------------
    def read_places(self) -> dict[str, dict[str, Any]]:
        """place id -> {schedule, step, stage, checkpoint, task, evaluation, key}, as sweeps recorded them."""
        try:
            return json.loads((self.root / _PLACES).read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise CrevalError(f"{self.root / _PLACES}: damaged sweep index ({exc}); delete it and run the sweep "
                              "again (it only maps places to cells)") from None

    def record_places(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        with self.lock("places"):
            current = self.read_places()
            if any(current.get(k) != v for k, v in entries.items()):
                self.root.mkdir(parents=True, exist_ok=True)
                write_json(self.root / _PLACES, {**current, **entries})

    # verification and repair -------------------------------------------------------------------
    def verify(self, key: str, deep: bool = True) -> list[str]:
        """Problems of a cell: unreadable files (read in full when ``deep``, else their footers), a
        manifest that does not match the files, grades whose rows differ from the generations'."""
        return list(self._problems(key, deep).values())

    def _problems(self, key: str, deep: bool) -> dict[str, str]:
        """File name -> what is wrong with it."""
        folder = self.cell_dir(key)
        problems: dict[str, str] = {}
        rows = {}
        for path in sorted(folder.glob("*.parquet")):
            try:
                data, _ = self._read(path, schema_only=not deep)
                rows[path.name] = data.num_rows if deep else pq.read_metadata(path).num_rows
            except CrevalError as exc:
                problems[path.name] = str(exc)
            except Exception as exc:  # a damaged footer can fail in read_metadata too
                problems[path.name] = f"cell {key}: {path.name} is damaged ({type(exc).__name__})"
        if _GENERATIONS not in rows and _GENERATIONS not in problems:
            problems[_GENERATIONS] = f"cell {key}: {_GENERATIONS} is missing"
        for name, count in rows.items():
            if name.startswith("grades-") and _GENERATIONS in rows and count != rows[_GENERATIONS]:
                problems[name] = f"cell {key}: {name} has {count} rows, the generations {rows[_GENERATIONS]}"
        if (folder / _MANIFEST).exists() and self._manifest(key) is None:
            problems[_MANIFEST] = f"cell {key}: {_MANIFEST} does not match the files (sizes differ, or it is damaged)"
        return problems

    def repair(self, key: str) -> Path | None:
        """Set a damaged cell aside (its generations are damaged), or its damaged files and manifest (the
        rest is kept, and a sweep recomputes what was moved); None if nothing is damaged."""
        problems = self._problems(key, deep=True)
        if not problems:
            return None
        if _GENERATIONS in problems:
            return self.set_aside(key)
        target = None
        for name in problems:
            target = self.set_aside(key, name, target)
        return target

    def set_aside(self, key: str, name: str | None = None, target: Path | None = None) -> Path:
        """Move a damaged cell (or one file of it, and the cell manifest) to ``results/damaged/``."""
        stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{uuid.uuid4().hex[:6]}"
        target = target or self.root / "damaged" / f"{key}.{stamp}"
        target.mkdir(parents=True, exist_ok=True)
        if name is None:
            shutil.move(str(self.cell_dir(key)), str(target / "cell"))
            return target
        for moved in (name, _MANIFEST):
            if (self.cell_dir(key) / moved).exists():
                shutil.move(str(self.cell_dir(key) / moved), str(target / moved))
        return target

    # layout ------------------------------------------------------------------------------------
    def check_layout(self) -> None:
        """Refuse a store of a newer layout; migrate one of layout 1 (cells without manifests)."""
        if self._layout_checked:
            return
        marker = self.root / "store.json"
        try:
            layout = json.loads(marker.read_text())["layout"]
        except FileNotFoundError:
            layout = 1 if self.cells() else None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CrevalError(f"{marker}: not a creval store marker ({exc})") from None
        if isinstance(layout, int) and layout > LAYOUT:
            raise CrevalError(f"{self.root}: store layout {layout} was written by a newer creval (this one reads "
                              f"up to {LAYOUT}); upgrade creval")
        if layout == 1:
            self._migrate_from_1()
        if layout != LAYOUT and (self.root / "cells").is_dir():
            write_json(marker, {"layout": LAYOUT})
            layout = LAYOUT
        self._layout_checked = layout == LAYOUT

    def _migrate_from_1(self) -> None:
        for key in self.cells():
            if (self.cell_dir(key) / _MANIFEST).exists() or self.verify(key):
                continue  # damaged cells stay as they are: status shows them, `creval store verify --repair`
            _, meta = self._read(self.generations_path(key), schema_only=True)
            grades = sorted(self.cell_dir(key).glob("grades-*.parquet"), key=lambda p: p.stat().st_mtime)
            current = [p for p in grades if self._read(p, schema_only=True)[1].get("generation_id") == meta["generation_id"]]
            task_hash = current[-1].name[len("grades-"):-len(".parquet")] if current else meta["task"]["task_hash"]
            self.finish_cell(key, task_hash)

    # plumbing ----------------------------------------------------------------------------------
    def cells(self) -> list[str]:
        root = self.root / "cells"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / _GENERATIONS).is_file())

    def _write(self, path: Path, table: pa.Table, meta: Mapping[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.check_layout()
        remove_orphans(path.parent)
        table = table.replace_schema_metadata({_META_KEY: json.dumps(meta, sort_keys=True).encode()})
        replace_atomically(path, lambda tmp: pq.write_table(table, tmp))

    @staticmethod
    def _read(path: Path, schema_only: bool = False) -> tuple[Any, dict[str, Any]]:
        """(table or schema, provenance); a damaged file is a CrevalError naming the cell and the file."""
        try:
            data = pq.read_schema(path) if schema_only else pq.read_table(path)
            raw = (data.schema.metadata if not schema_only else data.metadata) or {}
            meta = json.loads(raw.get(_META_KEY, b"{}"))
            if not isinstance(meta, dict):
                raise ValueError("provenance is not a JSON object")
        except FileNotFoundError:
            raise CrevalError(f"cell {path.parent.name}: {path.name} is missing ({path})") from None
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise CrevalError(f"cell {path.parent.name}: {path.name} is damaged ({str(exc).splitlines()[0][:200]}); "
                              f"`creval store verify --repair {path.parent.parent.parent}` sets it aside") from None
        if schema_only:
            return data, meta
        return data.replace_schema_metadata(None), meta
