"""Atomic file writes: each file is written under a hidden temporary name and renamed into place, so a
reader sees the old file or the new one, never part of one. A writer killed mid-write leaves its
temporary file behind, named after its host and process; ``remove_orphans`` deletes those of dead
processes. ``CREVAL_TEST_KILL_AFTER`` (tests only) kills the process after a chosen write.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import uuid
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

_HOST = socket.gethostname().replace(".", "-")
_KILL_ENV = "CREVAL_TEST_KILL_AFTER"  # tests: "GLOB[#N]" SIGKILLs this process after its Nth write of a matching file
_writes: dict[str, int] = {}


def remove_orphans(folder: Path) -> None:
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


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def _test_kill_point(name: str) -> None:
    """The test hook of ``CREVAL_TEST_KILL_AFTER`` (crash-consistency tests kill a sweep at every
    artifact boundary); a no-op unless the variable is set."""
    spec = os.environ.get(_KILL_ENV)
    if not spec:
        return
    pattern, _, nth = spec.partition("#")
    if fnmatch(name, pattern):
        _writes[pattern] = _writes.get(pattern, 0) + 1
        if _writes[pattern] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)


def replace_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp)`` writes the content to a temporary path, which then replaces ``path``."""
    tmp = _tmp(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _test_kill_point(path.name)


def write_json(path: Path, obj: Any) -> None:
    replace_atomically(path, lambda tmp: tmp.write_text(json.dumps(obj, sort_keys=True, indent=1)))
