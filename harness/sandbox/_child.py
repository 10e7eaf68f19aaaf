"""The program that runs inside the sandbox, around the untrusted solution and its tests.

argv: status fd, entry point name (or ""), "drop" to leave root for nobody. stdin: the secret token.
It reports on the status fd: "started" before any untrusted code, and "done <token> <types>" only
after the solution and every test returned normally. The token never touches a file; a program that
exits early (``exit(0)``, ``os._exit(0)``, ``SystemExit``) or raises never reaches the report.
Builtins that the solution rebinds are restored before the tests run, and the entry point is wrapped to
record the types of its return values, which the harness compares with the reference solution's.
Stdlib only: this file runs with the sandbox's interpreter, outside creval's environment.
"""
import builtins
import json
import os
import sys

_write = os.write
_exec = exec
_compile = compile
_dumps = json.dumps


def _type_name(value):
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _recording(func, seen):
    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        seen.append(_type_name(result))
        return result

    return wrapper


def main():
    status_fd, entry, drop = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "drop"
    token = sys.stdin.readline().strip()
    sys.stdin.close()
    if drop and os.getuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    _write(status_fd, b"started\n")
    with open("/sandbox/solution.py" if os.path.isdir("/sandbox") else "solution.py", encoding="utf-8") as fh:
        solution = fh.read()
    with open("/sandbox/tests.py" if os.path.isdir("/sandbox") else "tests.py", encoding="utf-8") as fh:
        tests = fh.read()
    pristine = dict(builtins.__dict__)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    _exec(_compile(solution, "solution.py", "exec"), namespace)
    builtins.__dict__.clear()
    builtins.__dict__.update(pristine)
    seen = []
    if entry and callable(namespace.get(entry)):
        namespace[entry] = _recording(namespace[entry], seen)
    _exec(_compile(tests, "tests.py", "exec"), namespace)
    _write(status_fd, f"done {token} {_dumps(seen)}\n".encode())


main()
