"""Harness side of the sandbox: workers that each hold one sandboxed ``_server.py`` process.

With bubblewrap a worker is long-lived: one sandbox, many jobs, each in a fresh forked child (and
everything a job started is killed, and /tmp emptied, before the next). This keeps the isolation of a
sandbox per sample at the cost of a fork instead of a new interpreter and namespace per sample.
Without bubblewrap every job gets a fresh server process that runs that one job.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import select
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path
from typing import Any

from .isolation import bwrap_prefix, python_executable

GRACE = 10.0  # seconds past a job's timeout before the harness gives up on a worker


class WorkerDied(Exception):
    pass


class Worker:
    def __init__(self, isolated: bool) -> None:
        self.isolated = isolated
        self.dir = Path(tempfile.mkdtemp(prefix="creval-sandbox-"))
        os.chmod(self.dir, 0o755)
        (self.dir / "server.py").write_text(files("creval.sandbox").joinpath("_server.py").read_text(), encoding="utf-8")
        if isolated:
            cmd = bwrap_prefix(self.dir, server=True) + [
                python_executable(), "-I", "-S", "-B", "/sandbox/server.py", "ns", "drop"]
            cwd, env = "/", {}
        else:
            # sh stays in between (no exec), so a sample's parent's parent is not this process
            cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh", python_executable(), "-I", "-S", "-B",
                   str(self.dir / "server.py"), "once", "keep"]
            cwd, env = str(self.dir), {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        with open(os.environ.get("CREVAL_SANDBOX_LOG", os.devnull), "ab") as log:  # the server holds its own copy
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, start_new_session=True)

    def _readline(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            raise WorkerDied("the sandbox server did not answer")
        return json.loads(line)

    def run(self, job: dict[str, Any], token: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
            self._readline(GRACE)  # forked: only now may the token travel
            self.proc.stdin.write(f"{token}\n".encode())
            self.proc.stdin.flush()
            return self._readline(job["timeout"] + GRACE)
        except (OSError, ValueError) as exc:
            raise WorkerDied(str(exc)) from None

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, 9)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Pool:
    """Isolated workers, created on demand (one per concurrent job) and reused; thread safe."""

    def __init__(self) -> None:
        self.idle: queue.LifoQueue[Worker] = queue.LifoQueue()
        self.lock = threading.Lock()
        self.all: list[Worker] = []
        self.pid = os.getpid()
        # bwrap --die-with-parent fires when the *thread* that started it ends, so every worker is
        # started from this one thread, which lives as long as the process.
        self.spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="creval-sandbox-spawner")

    def acquire(self) -> Worker:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            worker = self.spawner.submit(Worker, True).result()
            with self.lock:
                self.all.append(worker)
            return worker

    def release(self, worker: Worker, healthy: bool) -> None:
        if healthy:
            self.idle.put(worker)
        else:
            worker.close()
            with self.lock:
                self.all.remove(worker)

    def close(self) -> None:
        if os.getpid() != self.pid:
            return  # a forked copy does not own these processes
        with self.lock:
            workers, self.all = self.all, []
        for worker in workers:
            worker.close()


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool() -> Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            _POOL = Pool()
            atexit.register(_POOL.close)
        return _POOL


def execute(job: Any, token: str, isolated: bool) -> dict[str, Any] | None:
    """Run ``job`` (a ``Job``) once; None when the sandbox itself failed."""
    payload = {**asdict(job), "cwd": "/tmp", "nproc": 256}
    if not isolated:
        worker = Worker(isolated=False)
        try:
            return worker.run({**payload, "cwd": str(worker.dir)}, token)
        except WorkerDied:
            return None
        finally:
            worker.close()
    pool = shared_pool()
    worker = pool.acquire()
    try:
        result = worker.run(payload, token)
    except WorkerDied:
        pool.release(worker, healthy=False)
        return None
    pool.release(worker, healthy=True)
    return result
