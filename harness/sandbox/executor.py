"""Subprocess execution with resource limits; see the package docstring for the guarantees."""
from __future__ import annotations

import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_TAIL = 2000


@dataclass(frozen=True)
class ExecResult:
    """``status``: passed | failed | timeout | error (the program could not be started)."""

    status: str
    returncode: int | None
    stdout_tail: str
    stderr_tail: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _limits(cpu_seconds: int, memory_mb: int, file_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _tail(path: Path) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - _TAIL))
        return fh.read().decode("utf-8", errors="replace")


# The token reaches the program on stdin, is never written to a file the program can read, and is
# printed by the runner after the program (solution + tests) returned normally.
_RUNNER = """import sys
token = sys.stdin.readline().strip()
sys.stdin.close()
source = open("program.py", encoding="utf-8").read()
exec(compile(source, "program.py", "exec"), {"__name__": "__main__"})
print(token, flush=True)
"""


def run_program(source: str, *, timeout: float = 5.0, memory_mb: int = 1024, file_mb: int = 16) -> ExecResult:
    """Run ``source`` with ``python -I`` in a fresh directory. "passed" means the program returned
    normally, the process exited 0 and the last stdout line is the runner's secret token."""
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="creval-exec-") as tmp:
        work = Path(tmp)
        (work / "program.py").write_text(source, encoding="utf-8")
        (work / "runner.py").write_text(_RUNNER, encoding="utf-8")
        out, err = work / "stdout", work / "stderr"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-B", "runner.py"],
                    cwd=work,
                    env={"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8"},
                    stdin=subprocess.PIPE,
                    stdout=fo,
                    stderr=fe,
                    start_new_session=True,
                    preexec_fn=lambda: _limits(int(timeout) + 1, memory_mb, file_mb),
                )
            except OSError as exc:
                return ExecResult("error", None, "", f"could not start python: {exc}")
            try:
                assert proc.stdin is not None
                try:
                    proc.stdin.write(f"{token}\n".encode())
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
                code: int | None = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                _kill_group(proc)
        stdout, stderr = _tail(out), _tail(err)
    if code is None or code == -signal.SIGXCPU:
        return ExecResult("timeout", code, stdout, stderr)
    if code != 0:
        return ExecResult("failed", code, stdout, stderr)
    if stdout.rstrip("\n").rsplit("\n", 1)[-1] != token:
        return ExecResult("failed", code, stdout, stderr)
    return ExecResult("passed", code, stdout, stderr)


def check_program(solution: str, tests: str, *, timeout: float = 5.0) -> ExecResult:
    """Run ``solution`` followed by ``tests``; it passes only if every test ran without raising."""
    return run_program(f"{solution}\n\n{tests}\n", timeout=timeout)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the process group, so children left running by the program die with it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
