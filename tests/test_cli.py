"""The command line as a user meets it: tables, JSON, listings, and one clear line for bad input."""
import json
import os
import subprocess
import sys

import pytest

from creval.cli.main import main

FAST = ["--n", "2", "--max-new-tokens", "8", "--no-progress"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "{missing}"], "checkpoint not found"),
        (["--model", "{empty}"], "not a Hugging Face checkpoint"),
        (["--model", "{broken}"], "could not load checkpoint"),
        (["--model", "{ckpt}", "--tasks", "no_such_task"], "unknown task 'no_such_task'; registered tasks: aime, gsm8k"),
        (["--model", "{ckpt}", "--metric", "no_such_metric"], "unknown metric 'no_such_metric'"),
        (["--model", "{ckpt}", "--metric", "distinct_n:size=3"], "bad parameter 'size=3'"),
        (["--model", "{ckpt}", "--metric", "pass_at_k:k=1,16", "--n", "8"], "pass_at_k: k=16 is impossible with n=8"),
        (["--model", "{ckpt}", "--n", "0"], "argument --n: expected an integer >= 1"),
        (["--model", "{ckpt}", "--dtype", "int3"], "dtype must be"),
    ],
)
def test_bad_input_is_one_line_nonzero_exit_and_writes_nothing(capsys, tmp_path, tiny_ckpt, argv, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "broken": tmp_path / "broken", "ckpt": tiny_ckpt}
    argv = [a.format(**paths) for a in argv]
    out_dir = tmp_path / "results"
    code, out, err = run_cli(capsys, "run", *argv, "--out", str(out_dir), "--no-progress")
    assert code == 2
    assert err.startswith("creval: error: ") and message in err and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert not out_dir.exists()


def test_run_prints_tables_with_truncation_and_signatures(capsys, tmp_path, tiny_ckpt):
    code, out, _ = run_cli(capsys, "run", "--model", str(tiny_ckpt), "--tasks", "mini_math", "--out", str(tmp_path), *FAST)
    assert code == 0
    assert "mini_math (math): 22 prompts x 2 samples, generated" in out
    assert "truncated (finish=length)" in out and "pass@1|n:2|est:n-free|T:1.0" in out
    code, out, _ = run_cli(capsys, "run", "--model", str(tiny_ckpt), "--tasks", "mini_math", "--out", str(tmp_path), *FAST)
    assert "from store" in out


def test_run_json_is_strict_json(capsys, tmp_path, tiny_ckpt):
    code, out, _ = run_cli(capsys, "run", "--model", str(tiny_ckpt), "--tasks", "mini_writing,mini_code",
                           "--out", str(tmp_path), "--json", *FAST)
    data = json.loads(out)
    assert code == 0 and [c["task"] for c in data["cells"]] == ["mini_writing", "mini_code"]
    stats = {s["statistic"]: s for s in data["cells"][1]["summaries"]}
    assert set(stats) >= {"pass@1", "pass@2", "distinct-1", "token_entropy"}
    assert data["config"]["n"] == 2 and "truncation_rate" in data["cells"][0]


def test_listings(capsys):
    code, out, _ = run_cli(capsys, "tasks", "--json")
    names = {r["name"]: r for r in json.loads(out)}
    assert {"mini_math", "mini_code", "mini_writing"} <= set(names) and names["mini_code"]["family"] == "code"
    code, out, _ = run_cli(capsys, "metrics")
    assert code == 0 and "pass_at_k" in out and "distinct_n" in out and "token_entropy" in out
    code, out, _ = run_cli(capsys, "backends", "--json")
    assert [r["name"] for r in json.loads(out)] == ["hf", "openai", "replay", "vllm"]


def test_console_script_help_and_error_exit(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "creval")
    for cmd in ([], ["run"], ["demo"], ["tasks"], ["metrics"]):
        done = subprocess.run([exe, *cmd, "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "usage: creval" in done.stdout
    done = subprocess.run([exe, "run", "--model", str(tmp_path / "nope")], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == f"creval: error: checkpoint not found: '{tmp_path / 'nope'}' (no such directory)"
