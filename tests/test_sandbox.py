import os
import time

from creval.sandbox import check_program, run_program


def test_passing_and_failing_tests():
    assert check_program("def f(x):\n    return x + 1", "assert f(1) == 2").status == "passed"
    result = check_program("def f(x):\n    return x", "assert f(1) == 2, 'f(1)'")
    assert result.status == "failed" and "AssertionError" in result.stderr_tail


def test_early_exit_with_status_zero_is_not_a_pass():
    for escape in ("import sys; sys.exit(0)", "import os; os._exit(0)", "raise SystemExit(0)", "exit()"):
        assert check_program(f"def f():\n    return 1\n{escape}", "assert f() == 2").status == "failed", escape


def test_printing_a_fake_marker_is_not_a_pass():
    source = "print('PASSED')\nimport os; os._exit(0)"
    assert run_program(source).status == "failed"


def test_the_token_is_not_in_any_file_the_program_can_read():
    spy = "import os\nprint(open('runner.py').read() + open('program.py').read())\nraise SystemExit(0)"
    result = run_program(spy)
    assert result.status == "failed"


def test_infinite_loop_times_out_and_children_are_killed(tmp_path):
    marker = tmp_path / "alive"
    child = f"import os, time\nif os.fork() == 0:\n    time.sleep(3)\n    open({str(marker)!r}, 'w').write('x')\n    os._exit(0)\nwhile True: pass"
    started = time.monotonic()
    result = run_program(child, timeout=1.0)
    assert result.status == "timeout" and time.monotonic() - started < 5
    time.sleep(3.5)
    assert not marker.exists()  # the forked child died with its process group


def test_environment_is_empty_of_secrets(monkeypatch):
    monkeypatch.setenv("CREVAL_SECRET_TOKEN", "hunter2")
    result = run_program("import os\nassert 'CREVAL_SECRET_TOKEN' not in os.environ, os.environ")
    assert result.status == "passed", result.stderr_tail


def test_memory_bomb_is_contained():
    result = run_program("x = bytearray(4 << 30)", timeout=5.0)
    assert result.status == "failed" and "MemoryError" in result.stderr_tail


def test_runs_in_a_private_directory():
    result = run_program("import os\nprint(os.getcwd())\nassert os.listdir('.') == ['program.py', 'runner.py'] or True")
    assert result.status == "passed" and result.stdout_tail.split("\n")[0] != os.getcwd()
