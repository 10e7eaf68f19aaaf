"""Exports of a real sweep (tiny real checkpoints, the shared ``swept`` store): TensorBoard event files
and offline W&B runs read back with their own readers, and the leaderboard as a ``datasets`` dataset
loaded back from disk; every value and step must equal what the leaderboard reports."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from wandb_records import read_run

from creval.cli.main import main


@pytest.fixture(scope="module")
def board(swept, tmp_path_factory):
    from creval.leaderboards.build import build

    root, manifest = swept
    return build(root / "results", manifest, tmp_path_factory.mktemp("site"))


def _expected(board: dict, schedule: str) -> dict[tuple[str, int], float]:
    """(tag, step) -> value for one schedule, as the leaderboard reports it (finite values only)."""
    out = {}
    for r in board["rows"]:
        if r["schedule"] == schedule:
            name = f"{r['task']}/{r['statistic']}"
            for tag, value in ((f"eval/{name}", r["mean"]), (f"eval_ci_low/{name}", r["ci_low"]),
                               (f"eval_ci_high/{name}", r["ci_high"])):
                if math.isfinite(value):
                    out[(tag, r["step"])] = value
    return out


def _export(capsys, *argv: str) -> dict:
    assert main(["export", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_tensorboard_event_files_read_back_equal_the_leaderboard(swept, board, tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import TENSORS, EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    root, manifest = swept
    out = tmp_path / "tb"
    args = ["tensorboard", "--results", str(root / "results"), "--manifest", str(manifest), "--out", str(out)]
    report = _export(capsys, *args)
    assert [r["schedule"] for r in report["runs"]] == ["joint", "staged"]
    assert _export(capsys, *args) == report  # a second export replaces the first: one event file per run
    for run in report["runs"]:
        folder = Path(run["path"])
        assert folder == out / run["schedule"] and len(list(folder.glob("events.out.tfevents.*"))) == 1
        acc = EventAccumulator(str(folder), size_guidance={TENSORS: 0})
        acc.Reload()
        got = {(tag, e.step): float(make_ndarray(e.tensor_proto))
               for tag in acc.Tags()["tensors"] if tag != "creval/run" for e in acc.Tensors(tag)}
        expected = _expected(board, run["schedule"])
        assert got.keys() == expected.keys() and run["scalars"] == len(expected)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-7), key  # float32 in event files
        assert {step for _, step in got} == {0, 100, 200} == set(run["steps"])
        text = make_ndarray(acc.Tensors("creval/run")[0].tensor_proto).item().decode()
        assert f"schedule: `{run['schedule']}`" in text
        for r in board["rows"]:
            assert f"| {r['task']}/{r['statistic']} | `{r['signature']}` |" in text


def test_tensorboard_export_refuses_a_folder_it_did_not_write(swept, tmp_path, capsys):
    root, manifest = swept
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "train.txt").write_text("training logs")
    assert main(["export", "tensorboard", "--results", str(root / "results"), "--manifest", str(manifest),
                 "--out", str(tmp_path / "logs")]) == 2
    assert "not a creval tensorboard export" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "logs").iterdir()] == ["train.txt"]


def test_wandb_offline_runs_read_back_equal_the_leaderboard(swept, board, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)  # offline is the export's default, not the environment's
    root, manifest = swept
    report = _export(capsys, "wandb", "--results", str(root / "results"), "--manifest", str(manifest),
                     "--out", str(tmp_path / "wb"), "--project", "creval-test")
    assert [r["schedule"] for r in report["runs"]] == ["joint", "staged"]
    for entry in report["runs"]:
        run_dir = Path(entry["path"])
        assert run_dir.parent == tmp_path / "wb" / "wandb" and run_dir.name.startswith("offline-run-")
        run = read_run(run_dir)
        assert (run.name, run.group) == (entry["schedule"], manifest.name)
        assert run.config["schedule"] == entry["schedule"] and run.config["manifest"] == str(manifest)
        rows = [r for r in board["rows"] if r["schedule"] == entry["schedule"]]
        assert run.config["signatures"] == {f"{r['task']}/{r['statistic']}": r["signature"] for r in rows}
        assert run.config["stages"] == {str(r["step"]): r["stage"] for r in rows}
        assert [h["_step"] for h in run.history] == [0, 100, 200]  # the training step is W&B's step
        got = {(k, h["_step"]): v for h in run.history for k, v in h.items() if not k.startswith("_")}
        assert got == pytest.approx(_expected(board, entry["schedule"]), rel=1e-12)


def test_sweep_export_runs_after_the_sweep(swept, tmp_path, capsys):
    _, manifest = swept  # every cell is stored: the sweep only plans, then exports
    assert main(["sweep", str(manifest), "--export", "tensorboard", "--export-dir", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["generated"] == 0 and summary["cached"] == 12
    (export,) = summary["exports"]
    assert export["kind"] == "tensorboard" and export["out"] == str(tmp_path / "tensorboard")
    for schedule in ("joint", "staged"):
        assert len(list((tmp_path / "tensorboard" / schedule).glob("events.out.tfevents.*"))) == 1


def test_a_missing_optional_dependency_is_a_clear_error(swept, tmp_path, capsys, monkeypatch):
    root, manifest = swept
    for module, kind in (("tensorboard", "tensorboard"), ("wandb", "wandb")):
        monkeypatch.setitem(sys.modules, module, None)  # what `import` sees when the package is not installed
        assert main(["export", kind, "--results", str(root / "results"), "--manifest", str(manifest),
                     "--out", str(tmp_path / kind)]) == 2
        assert "pip install 'creval[export]'" in capsys.readouterr().err
        assert not (tmp_path / kind).exists()


def test_leaderboard_push_saves_a_dataset_that_loads_back(swept, board, tmp_path, capsys):
    import datasets

    root, manifest = swept
    where = ["--results", str(root / "results"), "--manifest", str(manifest)]
    assert main(["leaderboard", "push", *where, "--repo", "me/creval-board", "--to-disk", str(tmp_path / "ds"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)  # HF_HUB_OFFLINE=1 (conftest): saved, push skipped
    assert report["saved_to"] == str(tmp_path / "ds") and report["pushed_to"] is None and "HF_HUB_OFFLINE" in report["skipped"]
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    assert ds.num_rows == report["rows"] == len(board["rows"]) == 2 * 3 * len({(r["task"], r["statistic"]) for r in board["rows"]})
    keys = [(r["schedule"], r["step"], r["task"], r["statistic"]) for r in ds]
    assert len(set(keys)) == len(keys)
    for got, want in zip(ds, board["rows"]):
        assert {k: got[k] for k in ("schedule", "step", "stage", "task", "statistic", "signature", "n_prompts")} == \
            {k: want[k] for k in ("schedule", "step", "stage", "task", "statistic", "signature", "n_prompts")}
        for k in ("mean", "ci_low", "ci_high"):
            assert got[k] == want[k] or (math.isnan(got[k]) and math.isnan(want[k])), (k, want)


@pytest.mark.parametrize("argv, message", [
    (["--repo", "me/board"], "HF_HUB_OFFLINE is set: cannot push to me/board"),
    (["--repo", "not a repo id"], "not a Hub repository id"),
    ([], "nothing to do"),
])
def test_leaderboard_push_refuses_what_it_cannot_do(swept, tmp_path, capsys, argv, message):
    root, manifest = swept
    assert main(["leaderboard", "push", "--results", str(root / "results"), "--manifest", str(manifest), *argv]) == 2
    assert message in capsys.readouterr().err
