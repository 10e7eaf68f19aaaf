"""Running one untrusted program, or many in parallel, and classifying what happened."""
from __future__ import annotations

import json
import os
import resource
import secrets
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Sequence

from .isolation import bwrap_prefix, isolation_level, python_executable, warn_once

_TAIL = 2000
NPROC = 256  # per uid: in the sandbox that is `nobody`, shared by the samples running at once


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

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _limits(job: Job) -> None:
    cpu = int(job.timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (job.memory_mb << 20, job.memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (job.file_mb << 20, job.file_mb << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))


def _tail(path: Path) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - _TAIL))
        return fh.read().decode("utf-8", errors="replace")


def _read_all(fd: int, sink: list[bytes]) -> None:
    while chunk := os.read(fd, 65536):
        if sum(map(len, sink)) < 1 << 20:  # a program may write junk here too: keep a bounded amount
            sink.append(chunk)
    os.close(fd)


def run(job: Job) -> ExecResult:
    """Run ``job`` once in the sandbox (see ``creval.sandbox``)."""
    warn_once()
    level = isolation_level()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="creval-exec-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        for name, text in (("solution.py", job.solution), ("tests.py", job.tests)):
            (work / name).write_text(text, encoding="utf-8")
        (work / "child.py").write_text(files("creval.sandbox").joinpath("_child.py").read_text(), encoding="utf-8")
        out, err = work / "stdout", work / "stderr"
        status_r, status_w = os.pipe()
        args = [str(status_w), job.entry_point or "", "drop" if level == "bwrap" else "keep"]
        if level == "bwrap":
            cmd = bwrap_prefix(work) + [python_executable(), "-I", "-B", "/sandbox/child.py", *args]
            cwd, env = "/", {}
        else:
            scratch = work / "tmp"
            scratch.mkdir()
            # sh stays in between (no exec), so the program's parent is not this process
            cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh", python_executable(), "-I", "-B", str(work / "child.py"), *args]
            cwd, env = str(work), {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8"}
        report: list[bytes] = []
        with open(out, "wb") as fo, open(err, "wb") as fe:
            try:
                proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=fo, stderr=fe,
                                        pass_fds=(status_w,), start_new_session=True,
                                        preexec_fn=lambda: _limits(job))
            except OSError as exc:
                os.close(status_r)
                os.close(status_w)
                return ExecResult("sandbox-error", None, "", f"could not start: {exc}", level)
            os.close(status_w)
            reader = threading.Thread(target=_read_all, args=(status_r, report), daemon=True)
            reader.start()
            code = _communicate(proc, token, job.timeout)
            reader.join(timeout=5)
        return _classify(code, b"".join(report).decode("utf-8", "replace"), token, _tail(out), _tail(err), level)


def _communicate(proc: subprocess.Popen, token: str, timeout: float) -> int | None:
    try:
        assert proc.stdin is not None
        try:
            proc.stdin.write(f"{token}\n".encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        try:  # the whole group: children left running die with it (in bwrap, the pid namespace does)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def _classify(code: int | None, report: str, token: str, stdout: str, stderr: str, level: str) -> ExecResult:
    lines = report.splitlines()
    started = bool(lines) and lines[0] == "started"
    done = [line for line in lines if line.startswith(f"done {token} ")]
    if code is None or code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return ExecResult("timeout", code, stdout, stderr, level)
    if not started:
        return ExecResult("sandbox-error", code, stdout, stderr, level)
    if code == 0 and done:
        types = tuple(json.loads(done[-1].split(" ", 2)[2]))
        return ExecResult("passed", code, stdout, stderr, level, types)
    last = stderr.strip().rsplit("\n", 1)[-1]
    if last.startswith("MemoryError") or code in (-signal.SIGKILL, 128 + signal.SIGKILL) and not stderr.strip():
        return ExecResult("memory", code, stdout, stderr, level)
    return ExecResult("failed", code, stdout, stderr, level)


def run_many(jobs: Sequence[Job], workers: int | None = None) -> list[ExecResult]:
    """Run ``jobs`` on a bounded pool of threads, each waiting on its own sandboxed process."""
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
