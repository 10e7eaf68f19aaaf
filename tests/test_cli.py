"""The command line as a user meets it: tables, JSON, listings, and one clear line for bad input."""
import argparse
import json
import os
import subprocess
import sys

import pytest
from conftest import SHARED

from creval.cli.main import main

QUIETING = ("TRANSFORMERS_VERBOSITY", "DATASETS_VERBOSITY", "HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS")

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


def test_run_prints_tables_with_truncation_and_signatures_only_when_verbose(capsys, tmp_path, tiny_ckpt):
    code, out, err = run_cli(capsys, "run", "--model", str(tiny_ckpt), "--tasks", "mini_math", "--out", str(tmp_path), *FAST)
    assert code == 0
    assert "mini_math (math): 22 prompts x 2 samples, generated" in out
    assert "truncated (finish=length)" in out and "pass@1|n:2|est:n-free|T:1.0" not in out
    # no progress bars: a log line per step of the cell, on stderr
    assert "creval: mini_math: generating 22 prompts x 2 samples" in err and "creval: mini_math: generated in" in err
    code, out, err = run_cli(capsys, "run", "--model", str(tiny_ckpt), "--tasks", "mini_math", "--out", str(tmp_path),
                             "--verbose", "-q", *FAST)
    assert "from store" in out and "pass@1|n:2|est:n-free|T:1.0" in out and err == ""


def test_a_long_task_label_is_not_broken_inside_a_token():
    from rich.console import Console

    from creval.cli.render import print_run
    from creval.records import CellResult, GenerationConfig, RunResult, Summary

    label = "lm_eval:creval_gsm8k_local:include_path=/some/rather/long/folder/of/yaml/tasks:limit=3"
    cell = CellResult(label, "h", "math", "k", False, 3, 6, 0.0, 5.0, {"graded": 6},
                      (Summary("pass@1", 0.5, 0.1, 0.9, 3, "sig"),), "p")
    console = Console(width=60, record=True)
    print_run(RunResult("m", "f", "hf/1", GenerationConfig(n=2), (cell,), "r"), console)
    assert label in console.export_text().replace("\n", "")


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


def test_lm_eval_command_line_writes_results_json_and_sample_logs(capsys, tmp_path, tiny_ckpt):
    """lm-eval's spelling of a run, with creval's meaning: --model names the backend, --model_args the
    checkpoint; --num_fewshot does not apply to creval's fixed prompts (a warning says so)."""
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "run", "--model", "hf", "--model_args", f"pretrained={tiny_ckpt}", "--num_fewshot",
                                "5", "--batch_size", "8", "--output_path", str(out), "--log_samples", "--tasks",
                                "mini_math", "--metric", "pass_at_k", "--metric", "distinct_n", "--out",
                                str(tmp_path / "store"), *FAST)
    assert code == 0 and "mini_math (math)" in stdout
    assert "--num_fewshot 5 does not apply to mini_math" in err
    doc = json.loads((out / "results.json").read_text())
    assert {"results", "configs", "versions", "n-shot", "n-samples", "higher_is_better", "config", "creval"} <= set(doc)
    scores = doc["results"]["mini_math"]
    assert {"pass@1", "pass@1_stderr", "distinct-2-li", "distinct-2-li_stderr", "distinct-1-corpus"} <= set(scores)
    assert scores["distinct-1-corpus_stderr"] == "N/A"  # one value per cell
    assert doc["versions"]["mini_math"] == "1" and doc["n-shot"]["mini_math"] is None
    assert doc["config"]["backend"] == "hf" and doc["config"]["backend_options"] == {"batch_size": 8}
    assert doc["config"]["n"] == 2 and doc["config"]["model"] == str(tiny_ckpt)
    assert doc["creval"]["signatures"]["mini_math"]["pass@1"].startswith("pass@1|n:2|")
    [log] = list(out.glob("samples_mini_math_*.jsonl"))
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 22 and rows[0]["doc_id"] == 0 and rows[0]["prompt"].startswith("Solve the problem")
    assert rows[0]["target"] == "39" and len(rows[0]["resps"]) == 2 and len(rows[0]["filtered_resps"]) == 2
    sample = rows[0]["samples"][0]
    assert {"text", "answer", "correct", "status", "finish_reason", "n_tokens", "mean_token_entropy"} <= set(sample)
    assert sample["text"] == rows[0]["resps"][0] and sample["status"] in ("graded", "no-answer")
    # the summary and its standard error are those of the logged per-prompt values
    values = [r["statistics"]["distinct-2-li"] for r in rows]
    mean = sum(values) / len(values)
    stderr = (sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values)) ** 0.5
    assert abs(scores["distinct-2-li"] - mean) < 1e-9 and abs(scores["distinct-2-li_stderr"] - stderr) < 1e-9


def test_backend_options_reach_the_backend_typed_and_into_its_signature():
    from creval.backends.openai import OpenAIBackend
    from creval.cli.backend_args import resolve
    from creval.cli.main import build_parser

    def resolved(*argv):
        return resolve(build_parser().parse_args(["run", *argv]))

    model, backend, options = resolved("--model", "local-completions", "--model_args",
                                       "model=qwen,base_url=http://127.0.0.1:9/v1,num_concurrent=4",
                                       "--backend-option", "vocab_size=151936", "--backend-option", "timeout=5",
                                       "--backend-option", "api_key_env=MY_KEY", "--backend-option", "max_retries=2")
    assert (model, backend) == ("qwen", "openai")
    assert options == {"api": "completions", "base_url": "http://127.0.0.1:9/v1", "max_concurrency": 4,
                       "vocab_size": 151936, "timeout": 5.0, "api_key_env": "MY_KEY", "max_retries": 2}
    assert OpenAIBackend.signature(options) == "openai/1:api=completions:K=20:V=151936"
    _, backend, options = resolved("--model", "vllm", "--model_args", "pretrained=ckpt,max_length=2048",
                                   "--backend-option", "enforce_eager=true", "--backend-option", "chunked_prefill=0")
    assert backend == "vllm" and options == {"max_model_len": 2048, "enforce_eager": True, "chunked_prefill": False}


def test_library_leaves_other_libraries_logging_and_progress_bars_alone(tmp_path, tiny_ckpt):
    """Importing creval and running it (a model load, a dataset load) changes no global setting of
    transformers, datasets or lm-eval; only the command line quiets them. A fresh process: the CLI
    tests in this one have quieted them on purpose."""
    script = f"""
import json, logging
import datasets
from transformers.utils import logging as tl
tl.set_verbosity_info(); tl.enable_progress_bar(); datasets.logging.set_verbosity_info(); datasets.enable_progress_bars()
def state():
    return [tl.get_verbosity(), tl.is_progress_bar_enabled(), datasets.logging.get_verbosity(),
            datasets.is_progress_bar_enabled(), logging.getLogger("lm_eval").level, logging.getLogger().level]
before = state()
import creval
from creval.records import GenerationConfig
creval.run({str(tiny_ckpt)!r}, ["mini_code", "gsm8k:data={SHARED / 'gsm8k' / 'test.jsonl'}:limit=2"],
           GenerationConfig(n=1, max_new_tokens=4), metrics=["pass_at_k"], out={str(tmp_path / 'res')!r})
print(json.dumps([before, state()]))
"""
    env = {k: v for k, v in os.environ.items() if k not in QUIETING}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == after and before[:4] == [20, True, 20, True]
    assert "SyntaxWarning" not in done.stderr


def test_json_on_every_command_that_prints_a_result(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "lm-eval-tasks", str(tmp_path / "pkg"), "--json")
    data = json.loads(out)
    assert code == 0 and data["tasks"] == ["creval_writing", "creval_math"] and "lm_eval" in data["run"]
    assert all(os.path.isfile(f) for f in data["files"])
    code, out, _ = run_cli(capsys, "backends", "--json")
    hf = {r["name"]: r for r in json.loads(out)}["hf"]
    assert hf["options"]["batch_size"] == 64 and "transformers" in hf["description"]
    code, out, err = run_cli(capsys, "testbed", "train", "--schedule", "joint", "--steps", "2", "--every", "2",
                             "--warmup-steps", "2", "--out", str(tmp_path / "tb"), "--json")
    data = json.loads(out)
    assert code == 0 and data["manifest"].endswith("sweep.yaml") and "seed0/joint/checkpoint-2" in data["checkpoints"]
    assert "seed 0 joint: step 2/2, " in err and "entropy" in err and "SyntaxWarning" not in err  # progress without bars


def test_every_result_printing_command_has_json():
    from creval.cli.main import build_parser

    def commands(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from commands(child, (*path, name))
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            yield path, {s for a in parser._actions for s in a.option_strings}

    missing = [" ".join(p) for p, flags in commands(build_parser()) if "--json" not in flags]
    assert missing == [], missing


def test_the_nightly_workflow_uses_only_options_creval_has():
    """Every `creval` command line in examples/nightly.yml parses (env values filled in)."""
    import re
    import shlex
    from pathlib import Path

    import yaml

    from creval.cli.main import build_parser

    workflow = yaml.safe_load((Path(__file__).parent.parent / "examples" / "nightly.yml").read_text())
    env = {**workflow["env"], "newest": "/data/run/checkpoint-9", "GITHUB_STEP_SUMMARY": "/tmp/summary.md"}
    lines = [step["run"].replace("\\\n", " ") for step in workflow["jobs"]["evaluate"]["steps"] if "run" in step]
    commands = [line.split(">")[0] for block in lines for line in block.splitlines() if line.strip().startswith("creval ")]
    assert len(commands) == 6
    for command in commands:
        filled = re.sub(r'"?\$\{?(\w+)\}?"?', lambda m: str(env[m.group(1)]), command)
        build_parser().parse_args(shlex.split(filled)[1:])  # a CrevalError if an option does not exist


def test_limit_and_num_fewshot_go_to_the_tasks_that_take_them():
    import logging

    from creval.cli.run_cmd import task_specs

    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = logging.getLogger("creval.cli")
    logger.addHandler(handler)
    try:
        specs = task_specs(["gsm8k:data=x.jsonl", "mini_math", "lm_eval:foo:limit=2", "my_task.yaml"], 5, 3)
    finally:
        logger.removeHandler(handler)
    assert specs == ["gsm8k:data=x.jsonl:limit=5", "mini_math", "lm_eval:foo:limit=2:num_fewshot=3", "my_task.yaml"]
    assert "--limit 5 does not apply to mini_math, my_task.yaml: they run whole" in seen
    assert "--num_fewshot 3 does not apply to gsm8k, mini_math, my_task.yaml: their prompts are fixed" in seen
