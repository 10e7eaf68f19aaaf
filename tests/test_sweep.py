"""Sweeps over checkpoint trajectories: manifests, discovery, resuming after SIGKILL, failures,
status, watch, and the Ray executor."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from creval.cli.main import main
from creval.errors import CrevalError
from creval.manifest import discover, load_manifest
from creval.store import Store
from creval.sweep import plan, sweep, watch

TASKS = ["mini_math", "mini_writing"]


@pytest.fixture(scope="module")
def trajectory(tmp_path_factory):
    """Two schedules: 'joint' listed (3 steps), 'staged' discovered as checkpoint-N folders (3 steps)."""
    from tiny import build_checkpoint, sharpen

    root = tmp_path_factory.mktemp("traj")
    base = build_checkpoint(root / "base", seed=0)
    for i, factor in enumerate((1.0, 2.0, 4.0)):
        sharpen(base, root / "joint" / f"step-{i * 100}", factor)
        sharpen(base, root / "staged" / f"checkpoint-{i * 50}", factor * 1.5)
    return root


def write_manifest(root: Path, results: Path, extra: str = "", joint_extra: str = "") -> Path:
    text = f"""
tasks: {json.dumps(TASKS)}
metrics: [distinct_n, token_entropy]
generation: {{n: 2, max_new_tokens: 6, seed: 0}}
results: {results}
schedules:
  joint:
    stages: [{{name: warmup, until: 100}}, {{name: rl}}]
    checkpoints:
      - {{path: {root}/joint/step-0, step: 0}}
      - {{path: {root}/joint/step-100, step: 100}}
      - {{path: {root}/joint/step-200, step: 200}}
{joint_extra}
  staged:
    discover: {root}/staged
    stages: [{{name: structured, until: 100}}, {{name: creative}}]
{extra}"""
    path = results.parent / f"manifest-{results.name}.yaml"
    path.write_text(text)
    return path


def generation_ids(results: Path) -> dict[str, str]:
    out = {}
    for key in Store(results).cells():
        meta = json.loads(pq.read_schema(results / "cells" / key / "generations.parquet").metadata[b"creval"])
        out[key] = meta["generation_id"]
    return out


def test_manifest_stages_and_discovery(trajectory, tmp_path):
    m = load_manifest(write_manifest(trajectory, tmp_path / "r"))
    joint, staged = m.schedules
    assert [(c.step, c.stage) for c in joint.checkpoints()] == [(0, "warmup"), (100, "rl"), (200, "rl")]
    assert [(c.step, c.stage) for c in staged.checkpoints()] == [(0, "structured"), (50, "structured"), (100, "creative")]
    assert m.config.n == 2 and m.results == tmp_path / "r"


def test_discovery_layouts_and_incomplete_checkpoints(trajectory, tmp_path):
    src = trajectory / "joint" / "step-0"
    shutil.copytree(src, tmp_path / "verl" / "global_step_20" / "actor" / "huggingface")
    shutil.copytree(src, tmp_path / "verl" / "global_step10")  # OpenRLHF style, model at the top
    shutil.copytree(src, tmp_path / "verl" / "step_30")
    half = tmp_path / "verl" / "checkpoint-40"
    shutil.copytree(src, half)
    (half / "model.safetensors").rename(half / "model-00001-of-00002.safetensors")
    (half / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}))
    (tmp_path / "verl" / "notes").mkdir()
    assert [s for s, _ in discover(tmp_path / "verl")] == [10, 20, 30]  # the half-written 40 is not complete
    assert discover(tmp_path / "verl", settle=3600) == []  # all just written: not settled yet


def test_sweep_killed_mid_way_resumes_with_every_cell_exactly_once(trajectory, tmp_path):
    results = tmp_path / "results"
    manifest = write_manifest(trajectory, results)
    exe = os.path.join(os.path.dirname(sys.executable), "creval")
    proc = subprocess.Popen([exe, "sweep", str(manifest)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(Store(results).cells()) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = generation_ids(results)
    assert 3 <= len(before) < 12, "the sweep should have been killed part way"
    code = main(["sweep", str(manifest), "--json"])
    after = generation_ids(results)
    assert code == 0 and len(after) == 12  # 2 schedules x 3 steps x 2 tasks, each exactly once
    assert all(after[k] == v for k, v in before.items())  # cells stored before the kill were not regenerated
    assert not list(results.rglob(".*.tmp"))
    assert all(c.state == "done" for c in plan(load_manifest(manifest)))
    again = sweep(load_manifest(manifest))
    assert again.generated == 0 and again.cached == 12


def test_dry_run_and_status(trajectory, tmp_path, capsys):
    manifest = write_manifest(trajectory, tmp_path / "r")
    assert main(["sweep", str(manifest), "--dry-run", "--json"]) == 0
    todo = json.loads(capsys.readouterr().out)
    assert len(todo) == 12 and {c["state"] for c in todo} == {"missing"} and not (tmp_path / "r").exists()
    summary = tmp_path / "summary.md"
    assert main(["status", str(manifest), "--markdown", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "schedule joint" in out and "0 done, 0 partial, 0 corrupt, 12 missing, 0 failed" in out
    md = summary.read_text()  # a CI job summary: Markdown tables, no box drawing
    assert "#### schedule joint" in md and "| step | stage | mini_math | mini_writing |" in md
    assert "| 0 | warmup | missing | missing |" in md and "12 missing" in md and "┃" not in md and "│" not in md


def test_bad_checkpoints_are_recorded_and_the_rest_goes_on(trajectory, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (broken / "model.safetensors").write_bytes(b"junk")
    extra = (f"      - {{path: {tmp_path}/nowhere, step: 300}}\n"
             f"      - {{path: {broken}, step: 400}}")
    manifest = write_manifest(trajectory, tmp_path / "r", joint_extra=extra)
    assert main(["sweep", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert "12 cells generated" in out and "2 checkpoints failed" in out
    cells = plan(load_manifest(manifest))
    failed = {c.step: c.reason for c in cells if c.state == "failed"}
    assert set(failed) == {300, 400} and "checkpoint not found" in failed[300] and "could not load" in failed[400]
    assert sum(c.state == "done" for c in cells) == 12
    assert main(["status", str(manifest)]) == 0
    status = capsys.readouterr().out
    assert "12 done, 0 partial, 0 corrupt, 0 missing, 4 failed" in status and "checkpoint not found" in status


@pytest.mark.parametrize("extra, message", [
    ("  oops: {}\nbogus: 1", "top level: unknown key 'bogus'"),
])
def test_manifest_errors_name_the_field(trajectory, tmp_path, extra, message):
    with pytest.raises(CrevalError, match=message):
        load_manifest(write_manifest(trajectory, tmp_path / "r", extra=extra))


def test_manifest_field_errors(tmp_path):
    cases = {
        "schedules: {a: {checkpoints: [{path: x, step: 1}, {path: y, step: 1}]}}\ntasks: [mini_math]":
            "schedules.a.checkpoints.1.step: step 1 is already checkpoints.0",
        "schedules: {a: {checkpoints: [{path: x, stpe: 1}]}}\ntasks: [mini_math]":
            "schedules.a.checkpoints.0: unknown key 'stpe'",
        "schedules: {a: {checkpoints: [{path: x, step: one}]}}\ntasks: [mini_math]":
            "schedules.a.checkpoints.0.step: expected an integer",
        "schedules: {a: {discover: d}}\ntasks: []": "tasks: expected at least 1 item(s)",
        "schedules: {a: {discover: d}}\ntasks: [t]\ngeneration: {n: 0}": "generation.n: expected a value >= 1, got 0",
        "schedules: {a: {discover: d, checkpoints: []}}\ntasks: [t]": "give either checkpoints",
        "tasks: [t]\nschedules: [\n": "not valid YAML (line",
    }
    for text, message in cases.items():
        path = tmp_path / "m.yaml"
        path.write_text(text)
        with pytest.raises(CrevalError) as err:
            load_manifest(path)
        assert str(err.value).startswith(f"{path}: ") and message in str(err.value), (text, str(err.value))


def test_watch_picks_up_checkpoints_as_training_writes_them(trajectory, tmp_path):
    staged = tmp_path / "live"
    shutil.copytree(trajectory / "staged" / "checkpoint-0", staged / "checkpoint-0")
    manifest = tmp_path / "watch.yaml"
    manifest.write_text(f"tasks: [mini_writing]\ngeneration: {{n: 2, max_new_tokens: 4}}\nresults: {tmp_path / 'r'}\n"
                        f"metrics: [distinct_n]\nschedules:\n  live:\n    discover: {staged}\n")
    seen = []

    def on_poll(poll, summary):
        seen.append(summary.generated)
        if poll == 1:  # training writes the next checkpoint
            shutil.copytree(trajectory / "staged" / "checkpoint-50", staged / "checkpoint-50")

    watch(load_manifest(manifest), interval=0.05, settle=0.0, max_polls=3, on_poll=on_poll)
    assert seen == [1, 1, 0]


def test_ray_executor_stores_the_same_results_as_local(trajectory, tmp_path):
    ray = __import__("ray") if os.environ.get("CI") == "true" else pytest.importorskip("ray")  # CI must run it
    local = load_manifest(write_manifest(trajectory, tmp_path / "local"))
    distributed = load_manifest(write_manifest(trajectory, tmp_path / "ray"))
    sweep(local)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = sweep(distributed, executor="ray")
    finally:
        ray.shutdown()
    assert summary.generated == 12 and not summary.failed
    a, b = Store(tmp_path / "local"), Store(tmp_path / "ray")
    assert a.cells() == b.cells()
    for key in a.cells():
        ta, tb = a.read_generations(key)[0], b.read_generations(key)[0]
        # same tokens and text; entropies equal up to float32 rounding (Ray workers run torch on one thread)
        for column in ("prompt_id", "sample", "seed", "text", "token_ids", "finish_reason"):
            assert ta[column].equals(tb[column]), (key, column)
        ea = [x for row in ta["token_entropy"].to_pylist() for x in row]
        eb = [x for row in tb["token_entropy"].to_pylist() for x in row]
        assert ea == pytest.approx(eb, abs=1e-4)


def one_cell_manifest(root: Path, results: Path) -> Path:
    path = results.parent / f"manifest-{results.name}.yaml"
    path.write_text(f"tasks: [mini_math]\nmetrics: [distinct_n, token_entropy]\ngeneration: {{n: 2, max_new_tokens: 6}}\n"
                    f"results: {results}\nschedules:\n  joint:\n    checkpoints:\n"
                    f"      - {{path: {root}/joint/step-0, step: 0}}\n")
    return path


def stored_tables(results: Path) -> dict[str, object]:
    """Every stored table by cell and file name (compared by rows: provenance holds times and ids)."""
    out = {}
    for key in Store(results).cells():
        for path in sorted((results / "cells" / key).glob("*.parquet")):
            out[f"{key}/{path.name}"] = pq.read_table(path)
    return out


@pytest.fixture(scope="module")
def uninterrupted(trajectory, tmp_path_factory):
    reference = tmp_path_factory.mktemp("uninterrupted") / "results"
    sweep(load_manifest(one_cell_manifest(trajectory, reference)))
    return stored_tables(reference)


@pytest.mark.parametrize("boundary", ["generations.parquet", "grades-*", "scores-*#1", "scores-*#2", "cell.json"])
def test_a_sweep_killed_at_every_artifact_boundary_resumes_to_the_uninterrupted_result(trajectory, uninterrupted,
                                                                                       tmp_path, capsys, boundary):
    results = tmp_path / "results"
    manifest = one_cell_manifest(trajectory, results)
    exe = os.path.join(os.path.dirname(sys.executable), "creval")
    killed = subprocess.run([exe, "sweep", str(manifest)], env={**os.environ, "CREVAL_TEST_KILL_AFTER": boundary},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert killed.returncode == -signal.SIGKILL
    [cell] = plan(load_manifest(manifest))
    assert cell.state == ("done" if boundary == "cell.json" else "partial"), cell
    assert main(["status", str(manifest)]) == 0
    assert ("1 done" if boundary == "cell.json" else "1 partial") in capsys.readouterr().out
    before = generation_ids(results)
    assert main(["sweep", str(manifest), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["generated"] == 0  # completed, not regenerated
    assert generation_ids(results) == before
    [cell] = plan(load_manifest(manifest))
    assert cell.state == "done" and not list(results.rglob(".*.tmp"))
    want, got = uninterrupted, stored_tables(results)
    assert sorted(got) == sorted(want)
    assert [name for name in want if repr(got[name].to_pylist()) != repr(want[name].to_pylist())] == []  # NaN-safe


def test_three_concurrent_sweeps_generate_each_cell_once(trajectory, tmp_path):
    results = tmp_path / "results"
    manifest = results.parent / "concurrent.yaml"
    steps = "".join(f"      - {{path: {trajectory}/{s}, step: {i}}}\n" for i, s in enumerate(
        ["joint/step-0", "joint/step-100", "joint/step-200", "staged/checkpoint-0", "staged/checkpoint-50",
         "staged/checkpoint-100"]))
    manifest.write_text(f"tasks: [mini_writing]\nmetrics: [distinct_n]\ngeneration: {{n: 2, max_new_tokens: 6}}\n"
                        f"results: {results}\nschedules:\n  all:\n    checkpoints:\n{steps}")
    exe = os.path.join(os.path.dirname(sys.executable), "creval")
    procs = [subprocess.Popen([exe, "sweep", str(manifest), "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(3)]
    summaries = [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(s["generated"] for s in summaries) == 6  # every cell generated once, by one of the three
    assert all(c.state == "done" for c in plan(load_manifest(manifest)))
