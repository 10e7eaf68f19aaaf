"""How a sandboxed program is started: inside bubblewrap when it works here, else with rlimits only.

bubblewrap (Debian package ``bubblewrap``) gives each program new pid, network, ipc and uts namespaces
(no network at all; the harness's processes are invisible and unkillable), a file system made of the
read-only system directories and Python installation only (no home directories, no /etc, no project
files), a private size-limited writable /tmp, a new session (no terminal injection) and death with
its parent. Run as root, the program then leaves root for ``nobody`` so that the process-count limit
binds (the kernel exempts root from it). Without bubblewrap, programs run as the current user with
rlimits only; creval says so once, loudly, and records the isolation level with every grade.
"""
from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TMP_BYTES = 64 << 20
log = logging.getLogger(__name__)


def python_executable() -> str:
    """The real interpreter (a virtual environment's python is a symlink to it)."""
    return os.path.realpath(sys.executable)


@functools.lru_cache(maxsize=1)
def isolation_level() -> str:
    """"bwrap" if a trial bubblewrap sandbox starts here, else "rlimits"."""
    if os.environ.get("CREVAL_SANDBOX") == "rlimits" or not shutil.which("bwrap"):
        return "rlimits"
    try:
        with tempfile.TemporaryDirectory(prefix="creval-trial-") as empty:
            trial = subprocess.run(bwrap_prefix(Path(empty)) + [python_executable(), "-I", "-c", "pass"],
                                   capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "rlimits"
    return "bwrap" if trial.returncode == 0 else "rlimits"


@functools.lru_cache(maxsize=1)
def warn_once() -> None:
    if isolation_level() != "bwrap":
        log.warning("bubblewrap (bwrap) is not available or does not start here: generated code runs with rlimits "
                    "only, NOT isolated from this machine's files, network and processes. Install it "
                    "(Debian/Ubuntu: apt-get install bubblewrap).")


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _bind_with_open_parents(path: str) -> list[str]:
    """Bind ``path`` read-only; bwrap would create its missing parents as 0700, which ``nobody`` cannot
    traverse, so create them 0755 first."""
    args: list[str] = []
    parents = [p for p in Path(path).parents if str(p) != "/"]
    for parent in reversed(parents):
        if str(parent) not in ("/usr",) and not str(parent).startswith("/usr/"):
            args += ["--perms", "0755", "--dir", str(parent)]
    return args + ["--ro-bind", path, path]


def bwrap_prefix(workdir: Path, *, server: bool = False) -> list[str]:
    """The bwrap command line up to the program: ``workdir`` appears read-only at /sandbox. A
    ``server`` runs as pid 1 of its namespace and gets a private /run/creval for its samples' output."""
    prefix = os.path.realpath(sys.base_prefix)
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv", *_system_binds()]
    if not prefix.startswith("/usr"):
        args += _bind_with_open_parents(prefix)
    exe_dir = os.path.dirname(python_executable())
    if not exe_dir.startswith((prefix, "/usr")):
        args += _bind_with_open_parents(exe_dir)
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
             "--ro-bind", str(workdir), "/sandbox", "--chdir", "/tmp",
             "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8"]
    if server:
        args += ["--as-pid-1", "--perms", "0700", "--size", str(TMP_BYTES), "--tmpfs", "/run/creval"]
    return args
