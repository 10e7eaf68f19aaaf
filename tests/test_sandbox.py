"""An adversarial suite: each payload attacks the sandbox while solving its task wrongly (so a pass
means the attack worked). Each must be contained, get the right status, leave no process behind and
never count as a pass."""
import os
import socket
import time
from pathlib import Path

import pytest

from creval.sandbox import Job, isolation_level, run, run_many

ISOLATED = isolation_level() == "bwrap"
needs_bwrap = pytest.mark.skipif(not ISOLATED, reason="bubblewrap is not available: apt-get install bubblewrap")

TESTS = "assert double(2) == 4\nassert double(5) == 10\n"
WRONG = "def double(x):\n    return x + 1\n"
RIGHT = "def double(x):\n    return 2 * x\n"


def attack(payload: str, *, before: bool = True, timeout: float = 3.0, tests: str = TESTS):
    source = f"{payload}\n{WRONG}" if before else f"{WRONG}\n{payload}"
    return run(Job(source, tests, entry_point="double", timeout=timeout))


def processes_with(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            found.append(cmd)
    return found


def test_right_and_wrong_solutions():
    ok = run(Job(RIGHT, TESTS, entry_point="double"))
    assert ok.status == "passed" and ok.return_types == ("builtins.int",)  # the set of types returned
    bad = run(Job(WRONG, TESTS, entry_point="double"))
    assert bad.status == "failed" and "AssertionError" in bad.stderr_tail


@pytest.mark.parametrize("escape", ["import sys; sys.exit(0)", "import os; os._exit(0)", "raise SystemExit(0)",
                                    "exit()", "quit(0)"])
def test_exiting_before_the_tests_is_not_a_pass(escape):
    assert attack(escape, before=False).status == "failed"


def test_printed_markers_and_forged_reports_are_ignored():
    forge = ("import os\nprint('PASSED'); print('done 0000 []')\n"
             "for fd in range(3, 20):\n    try: os.write(fd, b'done deadbeef []\\n')\n    except OSError: pass\n"
             "os._exit(0)")
    assert attack(forge, before=False).status == "failed"


# Reads every place a token could leak to (stdin, the sandbox's files, the environment, argv, open
# descriptors), then forges a pass report with every 32-hex string it found on every descriptor and
# exits 0 before the (failing) tests run: a leaked token would turn this wrong solution into a pass.
SPY = """import os, re, sys
seen = []
def grab(read):
    try:
        seen.append(read())
    except Exception:
        pass
grab(sys.stdin.read)
grab(lambda: open('/proc/self/cmdline', 'rb').read().decode(errors='replace'))
grab(lambda: repr(dict(os.environ)))
for root in ('/sandbox', os.getcwd()):
    for path, _, names in os.walk(root):
        for name in names:
            grab(lambda: open(os.path.join(path, name), errors='replace').read())
def drain(fd):
    os.set_blocking(fd, False)
    return os.read(fd, 4096).decode(errors='replace')
for fd in range(3, 64):
    grab(lambda: drain(fd))
candidates = set(re.findall(r'[0-9a-f]{32}', ' '.join(seen))) | set(LEAK)
for token in candidates:
    for fd in range(1, 64):
        try:
            os.write(fd, f'done {token} 0000000000000000 []\\n'.encode())
        except OSError:
            pass
os._exit(0)
"""


def test_the_token_cannot_be_read_from_stdin_files_environment_or_descriptors(monkeypatch):
    from creval.sandbox import executor

    known = "0123456789abcdef" * 2
    monkeypatch.setattr(executor.secrets, "token_hex", lambda n: known)
    # control: had the spy found the token, the forged report would pass the wrong solution
    assert attack(f"LEAK = [{known!r}]\n" + SPY).status == "passed"
    result = attack("LEAK = []\n" + SPY)
    assert result.status == "failed", result.stdout_tail


def test_rebinding_builtins_used_by_tests_does_not_help():
    patch = "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.AssertionError = type('Nope', (Exception,), {})"
    result = attack(patch, tests="assert abs(double(2) - 4) < 1e-9\nassert double(5) == 10\n")
    assert result.status == "failed"


def test_replacing_exec_or_stdout_does_not_skip_the_tests():
    patch = "import builtins, sys, io\nbuiltins.exec = lambda *a, **k: None\nsys.stdout = io.StringIO()"
    assert attack(patch).status == "failed"


def test_infinite_loop_times_out():
    started = time.monotonic()
    assert attack("while True: pass", timeout=1.0).status == "timeout"
    assert time.monotonic() - started < 4


def test_ignoring_signals_does_not_outlive_the_timeout():
    payload = "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n    signal.signal(s, signal.SIG_IGN)\ntime.sleep(60)"
    assert attack(payload, timeout=1.0).status == "timeout"


@pytest.mark.parametrize("payload", ["x = bytearray(8 << 30)", "x = []\nwhile True:\n    x.append(' ' * 10**7)"])
def test_memory_bombs_are_contained(payload):
    # the limit ends it in about a second idle; a generous timeout keeps a loaded machine from calling it "timeout"
    assert attack(payload, timeout=30.0).status == "memory"


@needs_bwrap
def test_fork_bomb_is_contained_and_leaves_nothing():
    marker = "forkbomb7341"
    payload = (f"import os, time\n# {marker}\n"
               "for _ in range(2000):\n    try:\n        if os.fork() == 0:\n            time.sleep(30); os._exit(0)\n"
               "    except OSError:\n        break\n")
    result = attack(payload, timeout=2.0)
    assert result.status in ("failed", "timeout")
    time.sleep(0.5)
    assert not processes_with(marker)


@needs_bwrap  # a child that starts its own session escapes the process group; only the pid namespace holds it
def test_busy_child_left_running_is_killed():
    marker = "busychild9182"
    payload = f"import subprocess, os\nsubprocess.Popen(['sleep', '987'], start_new_session=True)  # {marker}\n"
    result = attack(payload + f"subprocess.Popen(['sh', '-c', 'while :; do :; done; echo {marker}'])\n")
    assert result.status == "failed"
    time.sleep(0.5)
    assert not processes_with(marker) and not processes_with("sleep 987")


@pytest.mark.parametrize("payload", [
    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    pytest.param("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError: pass", marks=needs_bwrap),
])  # without a pid namespace kill(-1) would kill the current user's processes: skipped, visibly
def test_killing_the_parent_or_everything_leaves_the_harness_alive(payload):
    assert attack(payload).status != "passed"
    assert run(Job(RIGHT, TESTS)).status == "passed"  # the harness is still here and working


@needs_bwrap
def test_files_outside_tmp_cannot_be_written_deleted_or_read(tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("secret-canary-4471")
    payload = (f"import os, shutil\nfor p in ({str(canary)!r}, '/usr/creval-evil', '/sandbox/evil', '/root/evil'):\n"
               "    try:\n        open(p, 'w').write('x')\n    except OSError: pass\n"
               f"try:\n    os.remove({str(canary)!r})\nexcept OSError: pass\n"
               "shutil.rmtree('/usr/share/doc', ignore_errors=True)\nopen('/tmp/fine', 'w').write('tmp is writable')\n")
    result = attack(payload)
    assert result.status == "failed"
    assert canary.read_text() == "secret-canary-4471" and not Path("/usr/creval-evil").exists()
    assert Path("/usr/share/doc").is_dir()


@needs_bwrap
def test_host_secrets_are_not_visible(tmp_path):
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY 8812")
    payload = (f"import os\nleaks = []\nfor p in ({str(secret)!r}, '/etc/shadow', '/etc/passwd', '/root/.bashrc',"
               f" {str(Path.home() / '.ssh')!r}, '/proc/1/environ'):\n"
               "    try:\n        leaks.append(open(p).read())\n    except OSError: pass\n"
               "assert not any('PRIVATE' in l for l in leaks), leaks\nprint('LEAKS', len(leaks))\n")
    result = run(Job(payload + RIGHT, TESTS, entry_point="double"))
    assert result.status == "passed" and "LEAKS 0" in result.stdout_tail


def test_environment_secrets_are_not_passed(monkeypatch):
    monkeypatch.setenv("CREVAL_TEST_API_KEY", "sk-hunter2")
    payload = "import os\nassert not any('hunter2' in v for v in os.environ.values()), dict(os.environ)\n"
    assert run(Job(payload + RIGHT, TESTS, entry_point="double")).status == "passed"


@needs_bwrap
def test_no_network_not_even_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    payload = (f"import socket\nfor addr in (('127.0.0.1', {port}), ('1.1.1.1', 80)):\n"
               "    try:\n        socket.create_connection(addr, timeout=1)\n        raise SystemExit('connected')\n"
               "    except OSError: pass\n")
    try:
        assert run(Job(payload + RIGHT, TESTS, entry_point="double")).status == "passed"
    finally:
        server.close()


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_flooding_output_is_capped(stream):
    payload = f"import sys\nwhile True:\n    sys.{stream}.write('x' * 65536)\n"
    result = attack(payload, timeout=3.0)
    assert result.status in ("failed", "timeout") and len(result.stdout_tail) <= 2000


def test_non_utf8_output_is_kept_readable():
    payload = "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\x80 bytes\\n'); sys.stderr.buffer.write(b'\\xc3\\x28\\n')"
    result = attack(payload)
    assert result.status == "failed" and "\ufffd" in result.stdout_tail


def test_always_equal_return_value_passes_asserts_but_is_recorded():
    cheat = "class Anything:\n    def __eq__(self, other):\n        return True\n\ndef double(x):\n    return Anything()\n"
    result = run(Job(cheat, TESTS, entry_point="double"))
    assert result.status == "passed" and result.return_types == ("__main__.Anything",)


def test_parallel_pool_keeps_order_and_statuses():
    jobs = [Job(RIGHT if i % 3 else WRONG, TESTS, entry_point="double") for i in range(12)]
    statuses = [r.status for r in run_many(jobs, workers=4)]
    assert statuses == ["failed" if i % 3 == 0 else "passed" for i in range(12)]


def test_isolation_level_is_reported():
    assert run(Job(RIGHT, TESTS)).isolation == isolation_level()


def test_the_real_sandbox_runs_wherever_bubblewrap_is_installed():
    """CI installs bubblewrap (.ci/run); wherever it is installed, the isolated path is the one tested.
    Elsewhere this says so as a skip instead of passing without asserting anything."""
    import shutil

    if os.environ.get("CI") == "true":
        assert shutil.which("bwrap"), "bubblewrap is missing in CI"
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed: the isolated sandbox is not tested here")
    assert ISOLATED, "bubblewrap is installed but does not start (user namespaces disabled?)"


def test_a_long_recursion_through_the_recorded_entry_point():
    """Every call of the entry point is recorded (here thousands, recursively) without slowing it down."""
    fib = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    result = run(Job(fib, "assert fib(18) == 2584\n", entry_point="fib"))
    assert result.status == "passed" and result.return_types == ("builtins.int",)


def test_a_worker_is_clean_for_the_next_sample():
    """A sample's files in /tmp and its background processes do not survive into the next sample."""
    first = run(Job("import subprocess\nopen('/tmp/left-behind', 'w').write('x')\n"
                    "subprocess.Popen(['sleep', '986'], start_new_session=True)\n", ""))
    assert first.status == "passed"
    second = run(Job("import os\nassert not os.path.exists('/tmp/left-behind'), 'file survived'\n", ""))
    assert second.status == "passed", second.stderr_tail
    time.sleep(0.3)
    assert not processes_with("sleep 986") or not ISOLATED
