"""Running untrusted programs and classifying what happened (see the package docstring)."""
from __future__ import annotations

import json
import os
import secrets
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .isolation import isolation_level, warn_once
from .pool import execute


@dataclass(frozen=True)
class Job:
    """A solution and its tests; with ``entry_point`` the return types of that function are recorded."""

    solution: str
    tests: str = ""
    entry_point: str | None = None
    timeout: float = 5.0
    memory_mb: int = 1024
    file_mb: int = 16


@dataclass(frozen=True)
class ExecResult:
    """``status``: passed | failed | timeout | memory | sandbox-error."""

    status: str
    returncode: int | None
    stdout_tail: str
    stderr_tail: str
    isolation: str
    return_types: tuple[str, ...] = field(default=())
    behaviour: str | None = None  # digest of the entry point's return values, when the tests all ran

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def run(job: Job) -> ExecResult:
    """Run ``job`` once: the solution, then its tests, in a fresh sandboxed process."""
    warn_once()
    level = isolation_level()
    token = secrets.token_hex(16)
    outcome = execute(job, token, isolated=level == "bwrap")
    if outcome is None:
        return ExecResult("sandbox-error", None, "", "the sandbox server failed", level)
    return classify(outcome, token, level)


def classify(outcome: dict[str, Any], token: str, level: str) -> ExecResult:
    code, stdout, stderr = outcome["code"], outcome["stdout"], outcome["stderr"]
    lines = outcome["report"].splitlines()
    started = bool(lines) and lines[0] == "started"
    done = [line for line in lines if line.startswith(f"done {token} ")]
    if code is None or code == -signal.SIGXCPU:
        return ExecResult("timeout", code, stdout, stderr, level)
    if not started:
        return ExecResult("sandbox-error", code, stdout, stderr, level)
    if code == 0 and done:
        _, _, digest, types = done[-1].split(" ", 3)
        return ExecResult("passed", code, stdout, stderr, level, tuple(json.loads(types)), digest)
    last = stderr.strip().rsplit("\n", 1)[-1]
    if last.startswith("MemoryError") or (code == -signal.SIGKILL and not stderr.strip()):
        return ExecResult("memory", code, stdout, stderr, level)
    return ExecResult("failed", code, stdout, stderr, level)


def run_many(jobs: Sequence[Job], workers: int | None = None) -> list[ExecResult]:
    """Run ``jobs`` on a bounded pool (one sandbox worker per thread), results in job order."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    if workers == 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def check_program(solution: str, tests: str, *, timeout: float = 5.0) -> ExecResult:
    """Run ``solution`` followed by ``tests``; it passes only if every test ran without raising."""
    return run(Job(solution, tests, timeout=timeout))


def run_program(source: str, *, timeout: float = 5.0, memory_mb: int = 1024) -> ExecResult:
    """Run ``source`` alone; "passed" means it returned normally."""
    return run(Job(source, "", timeout=timeout, memory_mb=memory_mb))
