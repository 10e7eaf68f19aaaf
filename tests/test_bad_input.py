"""Bad input, as a user (or an adversary) gives it, through the real CLI entry: every case exits 2 with
one line on stderr naming what is wrong, no traceback, and no stored cell changes. Plus the other exit
codes (3: a bug, 130: Ctrl-C) and the hub-offline fast path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from creval.cli.main import main

NON_UTF8 = b"name: t\nfamily: math\nprompt: \xff\xfe caf\xe9\n"
MANIFEST = "tasks: [mini_math]\nmetrics: [pass_at_k]\ngeneration: {{n: 2, max_new_tokens: 4}}\nresults: {res}\n{rest}\n"
SCHEDULE = "schedules:\n  joint:\n    checkpoints: [{{path: {ckpt}, step: 0}}]\n"


@pytest.fixture(scope="module")
def world(tiny_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One stored cell (the results every case must leave alone) and every bad file the table names."""
    d = tmp_path_factory.mktemp("bad")
    res = d / "results"
    assert main(["run", "--model", str(tiny_ckpt), "--tasks", "mini_math", "--n", "2", "--max-new-tokens", "4",
                 "--metric", "pass_at_k", "--out", str(res), "--no-progress", "--json"]) == 0
    (d / "empty").mkdir()
    (d / "broken").mkdir()
    (d / "broken" / "config.json").write_text("{not json")
    (d / "plain.txt").write_text("hello")
    (d / "nonutf8.yaml").write_bytes(NON_UTF8)
    (d / "nonutf8.jsonl").write_bytes(b'{"question": "caf\xe9", "answer": "#### 1"}\n')
    (d / "nonutf8.csv").write_bytes(b"step,reward\n1,0.5\n2,\xff\n")
    (d / "badyaml.yaml").write_text("name: t\nfamily: math\n  dataset: x\n")
    (d / "unknown_field.yaml").write_text("name: t\nfamily: math\ndataset: x\nprompt: p\nanswer_field: a\npromt: q\n")
    (d / "wrong_family.yaml").write_text("name: t\nfamily: maths\ndataset: x\nprompt: p\n")
    (d / "splits").mkdir()
    (d / "splits" / "contest.jsonl").write_text('{"question": "q", "answer": "#### 1"}\n')
    (d / "splits" / "train.jsonl").write_text('{"question": "q", "answer": "#### 1"}\n')
    (d / "splits" / "validation.jsonl").write_text('{"question": "q", "answer": "#### 1"}\n')
    replay = {
        "samples_int": {"prompt_id": "math-00", "samples": 5},
        "no_text": {"prompt_id": "math-00", "samples": [{"token_ids": [1]}]},
        "token_str": {"prompt_id": "math-00", "samples": [{"text": "x", "token_ids": ["a"]}]},
        "token_bool": {"prompt_id": "math-00", "samples": [{"text": "x", "token_ids": [True]}]},
        "unknown_row": {"id": 1, "response": "x"},
        "samples_bad_json": {"prompt_id": "math-00", "samples": "[not json"},
        "one_sample": {"prompt_id": "math-00", "samples": ["x"]},
    }
    for name, row in replay.items():
        (d / f"{name}.jsonl").write_text(json.dumps(row) + "\n")
    (d / "list_row.jsonl").write_text("[1, 2]\n")
    (d / "not_json.jsonl").write_text("{oops\n")
    (d / "surrogate.jsonl").write_text('{"prompt_id": "math-00", "samples": ["\\ud800"]}\n')
    (d / "fake.parquet").write_text("this is not parquet")
    (d / "fake_gen.parquet").write_text("this is not parquet")
    (d / "audit_nonutf8.jsonl").write_bytes(b'{"prompt_id": "a", "text": "\xff"}\n')
    (d / "discovered").mkdir()
    manifests = {
        "until_str": SCHEDULE.replace("    checkpoints", "    stages: [{{name: a, until: \"100\"}}]\n    checkpoints"),
        "options_str": "backend_options: \"dtype=bf16\"\n" + SCHEDULE,
        "n_str": SCHEDULE.replace("schedules:", "generation_x: 1\nschedules:").replace("generation_x: 1\n", ""),
        "dollar": SCHEDULE.replace("joint", "a$b"),
        "missing_discover": "schedules:\n  joint: {{discover: {d}/nowhere}}\n",
        "empty_discover": "schedules:\n  joint: {{discover: {d}/discovered}}\n",
        "unknown_key": "bogus: 1\n" + SCHEDULE,
        "both_sources": "schedules:\n  joint: {{discover: {d}, checkpoints: []}}\n",
        "neg_step": SCHEDULE.replace("step: 0", "step: -1"),
        "dup_step": SCHEDULE.replace("[{{path: {ckpt}, step: 0}}]", "[{{path: {ckpt}, step: 0}}, {{path: {ckpt}, step: 0}}]"),
        "bad_family": SCHEDULE.replace("    checkpoints", "    stages: [{{name: a, families: [poetry]}}]\n    checkpoints"),
        "unknown_task": SCHEDULE,
    }
    paths = {"d": str(d), "res": str(res), "ckpt": str(tiny_ckpt)}
    for name, rest in manifests.items():
        text = MANIFEST.format(res=res, rest=rest.format(**paths))
        if name == "n_str":
            text = text.replace("{n: 2,", '{n: "8",')
        if name == "unknown_task":
            text = text.replace("[mini_math]", "[no_such_task]")
        (d / f"m_{name}.yaml").write_text(text)
    (d / "m_results_file.yaml").write_text(MANIFEST.format(res=d / "plain.txt", rest=SCHEDULE.format(**paths)))
    (d / "m_nan.yaml").write_text(MANIFEST.format(res=res, rest=SCHEDULE.format(**paths)).replace("n: 2,", "temperature: .nan, n: 2,"))
    (d / "m_nonutf8.yaml").write_bytes(NON_UTF8)
    (d / "m_list.yaml").write_text("- a\n- b\n")
    (d / "m_ok.yaml").write_text(MANIFEST.format(res=res, rest=SCHEDULE.format(**paths)))
    return paths


R = ["run", "--model", "{ckpt}", "--out", "{res}", "--no-progress", "--tasks", "mini_math", "--n", "2", "--max-new-tokens", "4"]
REPLAY = R + ["--backend", "replay", "--generations"]
LB = ["leaderboard", "build", "--results", "{res}", "--manifest", "{d}/m_ok.yaml"]
BEST = ["best", "--results", "{res}", "--manifest", "{d}/m_ok.yaml", "--metric", "pass@1", "--task", "mini_math"]

CASES = [
    # checkpoints
    (["run", "--model", "{d}/missing", "--out", "{res}"], "checkpoint not found"),
    (["run", "--model", "{d}/empty", "--out", "{res}"], "not a Hugging Face checkpoint"),
    (["run", "--model", "{d}/broken", "--out", "{res}"], "could not load checkpoint"),
    (["run", "--model", "{d}/plain.txt", "--out", "{res}"], "is a file"),
    # tasks and metrics
    (R + ["--tasks", "no_such_task"], "unknown task 'no_such_task'"),
    (R + ["--tasks", "mini_math,mini_math"], "task listed twice"),
    (R + ["--tasks", "gsm8k:limit=-1"], "parameter limit=-1: expected a finite number >= 0"),
    (R + ["--tasks", "gsm8k:bogus=1"], "bad parameter 'bogus=1'"),
    (R + ["--metric", "no_such_metric"], "unknown metric 'no_such_metric'"),
    (R + ["--metric", "distinct_n:size=3"], "bad parameter 'size=3'"),
    (R + ["--metric", "distinct_n:n=0"], "parameter n=0: expected an integer >= 1"),
    (R + ["--metric", "distinct_n:n=two"], "is not a valid comma-separated list of int"),
    (R + ["--metric", "distinct_n:n="], "expected at least one value"),
    (R + ["--metric", "self_bleu:max_n=0"], "parameter max_n=0: expected an integer >= 1"),
    (R + ["--metric", "equivalence:threshold=nan"], "expected a finite number >= 0"),
    (R + ["--metric", "pass_at_k:k=1,16"], "k=16 is impossible with n=2"),
    (R + ["--metric", "distinct_n", "--metric", "distinct_n"], "metric listed twice"),
    # generation config
    (R + ["--n", "0"], "argument --n: expected an integer >= 1"),
    (R + ["--n", "-3"], "argument --n: expected an integer >= 1"),
    (R + ["--n", "eight"], "argument --n: expected an integer >= 1"),
    (R + ["--temperature", "nan"], "--temperature must be a finite number"),
    (R + ["--temperature", "-1"], "--temperature must be a finite number"),
    (R + ["--top-p", "0"], "--top-p must be in (0, 1]"),
    (R + ["--top-p", "1.5"], "--top-p must be in (0, 1]"),
    (R + ["--max-new-tokens", "0"], "argument --max-new-tokens: expected an integer >= 1"),
    (R + ["--max-new-tokens", "100000000000000000000000"], "--max-new-tokens must be between 1 and"),
    (R + ["--max-new-tokens", "2000", "--force"], "exceeds the model's context of 1024 tokens"),
    (R + ["--seed", "1.5"], "argument --seed"),
    # hf backend options
    (R + ["--batch-size", "0"], "argument --batch-size/--batch_size: expected an integer >= 1"),
    (R + ["--device", "banana"], "unknown device 'banana'"),
    (R + ["--device", "cuda:99"], "CUDA device"),
    (R + ["--dtype", "int3"], "dtype must be float32, bfloat16 or float16"),
    (R + ["--backend", "no_such_backend"], "unknown backend"),
    (R + ["--concurrency", "0"], "argument --concurrency"),
    # output folder
    (["run", "--model", "{ckpt}", "--out", "{d}/plain.txt"], "'{d}/plain.txt' is a file; expected a folder"),
    (["run", "--model", "{ckpt}", "--out", "{d}/plain.txt/sub"], "lies under the file"),
    # task files and local datasets
    (R + ["--tasks", "{d}/nonutf8.yaml"], "task spec is not UTF-8 text"),
    (R + ["--tasks", "{d}/badyaml.yaml"], "not valid YAML (line 3"),
    (R + ["--tasks", "{d}/unknown_field.yaml"], "unknown key 'promt'"),
    (R + ["--tasks", "{d}/wrong_family.yaml"], "family: expected one of"),
    (R + ["--tasks", "{d}/missing.yaml"], "cannot read task spec"),
    (R + ["--tasks", "gsm8k:data={d}/nonutf8.jsonl"], "nonutf8.jsonl: not UTF-8 text"),
    (R + ["--tasks", "gsm8k:data={d}/splits"], "no 'test' split here"),
    (R + ["--tasks", "gsm8k:data={d}/missing.jsonl"], "no such file or directory"),
    (R + ["--tasks", "gsm8k:data={d}/plain.txt"], "unknown data file type"),
    (R + ["--tasks", "gsm8k:data={d}/fake.parquet"], "could not be read"),
    # replay input
    (R + ["--backend", "replay"], "give the generations to score with --generations FILE"),
    (REPLAY + ["{d}/missing.jsonl"], "generations file not found"),
    (REPLAY + ["{d}/nonutf8.jsonl"], "generations file is not UTF-8 text"),
    (REPLAY + ["{d}/samples_int.jsonl"], "'samples' must be a list, got int"),
    (REPLAY + ["{d}/samples_bad_json.jsonl"], "'samples' is a string but not a JSON list"),
    (REPLAY + ["{d}/no_text.jsonl"], "a sample has no 'text' string"),
    (REPLAY + ["{d}/token_str.jsonl"], "token id 'a' is not an integer"),
    (REPLAY + ["{d}/token_bool.jsonl"], "token id True is not an integer"),
    (REPLAY + ["{d}/unknown_row.jsonl"], "a row has none of prompt_id"),
    (REPLAY + ["{d}/list_row.jsonl"], "expected a JSON object, got list"),
    (REPLAY + ["{d}/not_json.jsonl"], "not valid JSON"),
    (REPLAY + ["{d}/surrogate.jsonl"], "not valid Unicode"),
    (REPLAY + ["{d}/fake.parquet"], "cannot read this parquet file"),
    (REPLAY + ["{d}/nonutf8.csv"], "not UTF-8 text"),
    (REPLAY + ["{d}/one_sample.jsonl"], "has 1 samples, --n asks for 2"),
    # sweep manifests
    (["sweep", "{d}/missing.yaml"], "cannot read manifest"),
    (["sweep", "{d}/m_nonutf8.yaml"], "manifest is not UTF-8 text"),
    (["sweep", "{d}/m_list.yaml"], "top level: expected a mapping"),
    (["sweep", "{d}/m_until_str.yaml"], "schedules.joint.stages.0.until: expected an integer, got '100'"),
    (["sweep", "{d}/m_options_str.yaml"], "backend_options: expected a mapping, got 'dtype=bf16'"),
    (["sweep", "{d}/m_n_str.yaml"], "generation.n: expected an integer, got '8'"),
    (["sweep", "{d}/m_nan.yaml"], "generation.temperature: expected a finite number"),
    (["sweep", "{d}/m_dollar.yaml"], "schedule name 'a$b'"),
    (["sweep", "{d}/m_missing_discover.yaml"], "schedules.joint.discover: no such folder"),
    (["sweep", "{d}/m_empty_discover.yaml"], "no checkpoint to evaluate"),
    (["sweep", "{d}/m_unknown_key.yaml"], "top level: unknown key 'bogus'"),
    (["sweep", "{d}/m_both_sources.yaml"], "give either checkpoints (a list) or discover (a folder)"),
    (["sweep", "{d}/m_neg_step.yaml"], "schedules.joint.checkpoints.0.step: expected a value >= 0"),
    (["sweep", "{d}/m_dup_step.yaml"], "step 0 is already checkpoints.0"),
    (["sweep", "{d}/m_bad_family.yaml"], "schedules.joint.stages.0.families.0: expected one of"),
    (["sweep", "{d}/m_results_file.yaml"], "results:"),
    (["sweep", "{d}/m_unknown_task.yaml"], "unknown task 'no_such_task'"),
    (["status", "{d}/m_until_str.yaml"], "schedules.joint.stages.0.until: expected an integer"),
    (["sweep", "{d}/m_ok.yaml", "--watch", "--interval", "-1"], "argument --interval: expected a number > 0"),
    (["sweep", "{d}/m_ok.yaml", "--settle", "nan"], "argument --settle: expected a finite number"),
    (["sweep", "{d}/m_ok.yaml", "--max-polls", "0"], "argument --max-polls"),
    # leaderboards, compare, best
    (LB + ["--out", "{d}/plain.txt"], "argument --out: '{d}/plain.txt' is a file"),
    (LB + ["--out", "{d}/site", "--entropy-threshold", "nan"], "argument --entropy-threshold: expected a positive number of nats or a percentage"),
    (LB + ["--out", "{d}/site"] + ["--manifest", "{d}/m_dollar.yaml"], "schedule name 'a$b'"),
    (["compare", "{res}", "{res}", "--markdown", "{d}"], "argument --markdown: '{d}' is a folder"),
    (["compare", "{res}", "{res}", "--max-drop", "pass@1=nan"], "--max-drop 'pass@1=nan': expected STATISTIC=NUMBER"),
    (["compare", "{res}", "{res}", "--max-drop", "pass@1=-1"], "--max-drop 'pass@1=-1': expected STATISTIC=NUMBER"),
    (["compare", "{res}", "{res}", "--max-drop", "pass@1"], "--max-drop 'pass@1': expected STATISTIC=NUMBER"),
    (["compare", "{res}", "{d}/nowhere"], "nowhere"),
    (BEST + ["--window", "-5"], "argument --window: expected an integer >= 1"),
    (BEST + ["--rewards", "{d}/nonutf8.csv"], "not UTF-8 text"),
    (BEST + ["--rewards", "{d}/missing.csv"], "no such file"),
    # other commands
    (["audit-grader", "--task", "mini_math", "--generations", "{d}/audit_nonutf8.jsonl"], "not UTF-8 text"),
    (["audit-grader", "--task", "mini_math", "--generations", "{d}/fake_gen.parquet"], "not a creval generations table"),
    (["lm-eval-tasks", "{d}/lm", "--k", "0"], "argument --k"),
    (["testbed", "train", "--schedule", "joint", "--steps", "0", "--out", "{d}/tb"], "argument --steps"),
    (["demo", "--out", "{d}/plain.txt"], "is a file"),
    (["no-such-command"], "invalid choice: 'no-such-command'"),
    (["run"], "the following arguments are required: --model"),
    # --backend-option and lm-eval's spellings
    (R + ["--backend-option", "nope=1"], "--backend-option: the hf backend has no option 'nope'; its options: batch_size, device"),
    (R + ["--backend-option", "batch_size=many"], "--backend-option: batch_size takes an integer, got 'many'"),
    (R + ["--backend-option", "hidden_states=maybe"], "hidden_states takes true or false"),
    (R + ["--backend-option", "batch_size"], "argument --backend-option: expected KEY=VALUE"),
    (R + ["--backend-option", "batch_size=0"], "hf backend: batch_size must be an integer >= 1"),
    (R + ["--backend", "replay", "--dtype", "float16"], "--dtype does not apply to the replay backend"),
    (R + ["--model_args", "pretrained={ckpt}"], "--model_args: with it, --model names lm-eval's model type"),
    (["run", "--model", "hf", "--out", "{res}"], "--model hf is an lm-eval model type: give the checkpoint with --model_args"),
    (["run", "--model", "hf", "--model_args", "dtype=float16", "--out", "{res}"], "--model_args: name the model once"),
    (["run", "--model", "hf", "--model_args", "pretrained={ckpt},trust_remote_code=True", "--out", "{res}"],
     "the hf backend has no option 'trust_remote_code'"),
    (["run", "--model", "hf", "--model_args", "pretrained={ckpt},dtype=float16", "--dtype", "float32", "--out", "{res}"],
     "dtype is given twice, as 'float16' (--model_args) and 'float32' (--dtype)"),
    (["run", "--model", "vllm", "--model_args", "pretrained={ckpt}", "--backend", "hf", "--out", "{res}"],
     "--model vllm is the vllm backend, but --backend hf is given"),
    (R + ["--num_fewshot", "-1"], "argument --num-fewshot/--num_fewshot: expected an integer >= 0"),
    (R + ["--batch_size", "auto:4"], "argument --batch-size/--batch_size"),
    (R + ["--log_samples"], "--log-samples needs --output-path DIR"),
    (R + ["--output_path", "{d}/plain.txt"], "'{d}/plain.txt' is a file"),
    (R + ["--verbosity", "loud"], "argument --verbosity: expected one of debug, info, warning, error"),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every stored file and folder, but the lock files a run takes while it works (not results)."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if ".locks" not in p.relative_to(root).parts}


@pytest.mark.parametrize("argv, message", CASES, ids=[f"{i:02d}-{c[0][0]}" for i, c in enumerate(CASES)])
def test_bad_input_exits_2_with_one_line_and_changes_no_cell(world, capsys, argv, message):
    res = Path(world["res"])
    before = _snapshot(res)
    code = main([a.format(**world) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    # the error is one line, the last; before it only the run's progress lines (a cell started)
    *progress, last = err.splitlines()
    assert last.startswith("creval: error: ") and not any("error" in line for line in progress), err
    assert message.format(**world) in last, err
    assert "Traceback" not in err and "this is a bug" not in err
    assert _snapshot(res) == before


def test_the_table_covers_sixty_kinds_of_bad_input():
    assert len(CASES) >= 60


def _creval(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "creval")
    return subprocess.run([exe, *argv], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_through_the_console_script(world):
    for argv, message in [(CASES[0][0], "checkpoint not found"), (["sweep", "{d}/m_until_str.yaml"], "expected an integer"),
                          (["best", "--window", "-5"], "argument --window"), (["compare", "a", "b", "--markdown", "{d}"], "is a folder")]:
        done = _creval(*(a.format(**world) for a in argv))
        assert done.returncode == 2 and done.stdout == "", done
        assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_bug_exits_3_with_one_line_asking_for_a_report(monkeypatch, capsys):
    from creval.cli import main as cli

    def crash(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "_cmd_lm_eval_tasks", crash)
    assert cli.main(["lm-eval-tasks", "x"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError" in err and "this is a bug, please report it" in err


def test_an_interrupt_exits_130(monkeypatch, capsys):
    from creval.cli import main as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_lm_eval_tasks", interrupted)
    assert cli.main(["lm-eval-tasks", "x"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_no_network_gives_the_local_copy_advice_at_once(tmp_path):
    """Hub reachable nowhere (HF_ENDPOINT to a refused port, offline mode not set): the advice in < 10 s (the probe itself waits at most 3 s; retries would take minutes)."""
    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0",
           "HF_HOME": str(tmp_path / "hf")}
    code = ("import time; from creval.runner import load_task; from creval.errors import CrevalError\n"
            "from creval.checkpoints import resolve_checkpoint\n"
            "for call in (lambda: load_task('gsm8k').prompt_set, lambda: resolve_checkpoint('no-org/no-model')):\n"
            "    t = time.perf_counter()\n    try:\n        call()\n    except CrevalError as e:\n"
            "        print(round(time.perf_counter() - t, 2)); print(e)\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    task_seconds, task_message, ckpt_seconds, ckpt_message = done.stdout.splitlines()[:4]
    assert float(task_seconds) < 10 and float(ckpt_seconds) < 10 and time.perf_counter() - started < 30, done
    assert "no connection to http://127.0.0.1:9" in task_message and "point the task at a local copy" in task_message
    assert "no connection to http://127.0.0.1:9" in ckpt_message and "pass the path of a local checkpoint" in ckpt_message
