"""The sandbox's own process: reads jobs, forks one child per job, reports how each ended.

Runs with the sandbox's interpreter (stdlib only, ``python -I -S``). In bubblewrap it is pid 1 of its
own pid namespace, for the life of a worker: after each job it kills every other process in the
namespace (nothing a sample started survives it) and empties /tmp, so each sample starts from the
same clean state. Without bubblewrap it runs one job and kills only the child's process group.

Protocol on stdin/stdout, one JSON line each: job -> ``{"forked": pid}`` -> the token line ->
``{"code", "report", "stdout", "stderr"}``. The token is sent only after the fork, so the child's
memory never holds it until the child reads it from its own pipe, and the child reports
``done <token> <behaviour digest> <return types>`` only after the solution and every test returned
normally (the digest hashes the entry point's return values in call order: two programs that behave
alike on the tests get the same digest).
"""
import builtins
import contextlib
import hashlib
import json
import os
import resource
import select
import shutil
import signal
import sys
import traceback

TAIL = 2000
OUT_DIR = "/run/creval" if os.path.isdir("/run/creval") else None


def _type_name(value):
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _limits(job):
    cpu = int(job["timeout"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_AS, (job["memory_mb"] << 20,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (job["file_mb"] << 20,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (job["nproc"],) * 2)


def _child(job, token_r, report_w, out_fd, err_fd, drop,
           _write=os.write, _exec=exec, _compile=compile, _dumps=json.dumps, _builtins=builtins.__dict__, _name=_type_name, _repr=repr, _sha=hashlib.sha256):
    """The forked child: limits, leave root, then the solution and the tests. Never returns.

    The functions it needs after the solution ran are bound as defaults, i.e. local to this frame: a
    solution that rebinds module attributes or builtins cannot reach them."""
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        # the child's own stdout and stderr for the rest of its life (it ends in os._exit)
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        _limits(job)
        if drop and os.getuid() == 0:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        os.chdir(job["cwd"])
        token = os.read(token_r, 256).decode().strip()
        os.close(token_r)
        _write(report_w, b"started\n")
        pristine = dict(_builtins)
        namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        _exec(_compile(job["solution"], "solution.py", "exec"), namespace)
        _builtins.clear()
        _builtins.update(pristine)
        seen = []
        behaviour = _sha()  # the entry point's return values in call order: equal programs, equal digests
        entry = job.get("entry_point")
        if entry and callable(namespace.get(entry)):
            func = namespace[entry]

            def recording(*args, **kwargs):
                result = func(*args, **kwargs)
                seen.append(_name(result))
                try:
                    shown = _repr(result)[:1000]
                except BaseException:
                    shown = "<unrepresentable>"
                behaviour.update(shown.encode("utf-8", "replace") + b"\0")
                return result

            namespace[entry] = recording
        _exec(_compile(job["tests"], "tests.py", "exec"), namespace)
        _write(report_w, f"done {token} {behaviour.hexdigest()[:16]} {_dumps(sorted(set(seen)))}\n".encode())
        code = 0
    except SystemExit as exc:  # an early exit is never a pass: no "done" was written
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            # not contextlib.suppress: after the solution ran, only this frame's locals are trusted
            try:  # noqa: SIM105
                stream.flush()
            except BaseException:
                pass
        os._exit(code)


def _tail(path):
    with open(path, "rb") as fh:
        fh.seek(max(0, os.fstat(fh.fileno()).st_size - TAIL))
        return fh.read().decode("utf-8", errors="replace")


def _read_pipe(fd):
    chunks, size = [], 0
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        if size < 1 << 20:  # a program may write junk here too: keep a bounded amount
            chunks.append(chunk)
            size += len(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _clean(paths):
    for root in paths:
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def run_job(job, inp, out, namespace_init, drop):
    out_dir = OUT_DIR or job["cwd"]
    out_path, err_path = os.path.join(out_dir, "stdout"), os.path.join(out_dir, "stderr")
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    token_r, token_w = os.pipe()
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(token_w)
        os.close(report_r)
        _child(job, token_r, report_w, out_fd, err_fd, drop)
    for fd in (token_r, report_w, out_fd, err_fd):
        os.close(fd)
    out.write((json.dumps({"forked": pid}) + "\n").encode())
    out.flush()
    with contextlib.suppress(OSError):
        os.write(token_w, inp.readline())
    os.close(token_w)
    pidfd = os.pidfd_open(pid)
    finished, _, _ = select.select([pidfd], [], [], job["timeout"])
    os.close(pidfd)
    if namespace_init:
        os.kill(-1, signal.SIGKILL)  # pid 1 is spared: everything else in the namespace dies
    else:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status) if finished else None
    report = _read_pipe(report_r)
    if namespace_init:
        while True:  # reap what the sample left behind (orphans are ours as pid 1)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    result = {"code": code, "report": report, "stdout": _tail(out_path), "stderr": _tail(err_path)}
    if namespace_init:
        _clean(["/tmp", out_dir])
    return result


def main():
    namespace_init, drop = sys.argv[1] == "ns", sys.argv[2] == "drop"
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = inp.readline()
        if not line:
            return
        result = run_job(json.loads(line), inp, out, namespace_init, drop)
        out.write((json.dumps(result) + "\n").encode())
        out.flush()
        if not namespace_init:
            return


main()
