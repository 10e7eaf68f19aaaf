"""The store as a unit of truth: golden keys, cell manifests, damaged files, layout versions, verify and
repair, and which grades and scores readers take."""
import json
import shutil
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import creval
from creval.cli.main import main
from creval.errors import CrevalError
from creval.hashing import stable_hash
from creval.leaderboards.collect import read_cell, read_results
from creval.records import GenerationConfig
from creval.runner import load_metrics, load_task
from creval.scoring import required_scores, score_key
from creval.store import LAYOUT, Store, cell_key, task_cell_key

CONFIG = GenerationConfig(n=2, max_new_tokens=6, seed=0)
METRICS = ["distinct_n", "token_entropy"]


def test_golden_keys():
    """A silent change of any of these orphans every stored cell of every user: change them only with a
    new store layout and a migration."""
    assert stable_hash({"a": 1, "b": [1.5, "x", None], "c": "é"}) == "df5a01deaa5abb91"
    assert cell_key("fp0", "prompts0", "config0", "hf/1:dtype=float32:device=cpu") == "f892ca11e74c307b"
    assert CONFIG.hash() == "8f9ec19a67457667" and GenerationConfig().hash() == "7ffd55dd32d42fab"
    task = SimpleNamespace(task_hash="t0", prompts_hash="p0", stop=("\n\n",))
    assert task_cell_key("fp0", task, CONFIG, "hf/1:dtype=float32:device=cpu") == "3f067a7a7a2a61f9"
    assert [score_key(m, task) for m in load_metrics(["distinct_n", "pass_at_k:k=1,4"])] == \
        ["90a713974e9c2b18", "4958b4b397224c4d"]  # derived files: a new signature format rescores, loses nothing
    math = load_task("mini_math")  # the bundled data: its hashes change only with a new task version
    assert (math.prompts_hash, math.task_hash) == ("07f93a7fd942e295", "dcb3c20feb3a626a")  # task hash: grader 3


@pytest.fixture
def stored(tiny_ckpt, tmp_path):
    out = tmp_path / "results"
    cell = creval.run(str(tiny_ckpt), ["mini_writing"], CONFIG, metrics=METRICS, out=str(out)).cells[0]
    return Store(out), cell, tiny_ckpt


def _required(store):
    task = load_task("mini_writing")
    return task.task_hash, required_scores(task, load_metrics(METRICS))


def test_a_run_writes_the_cell_manifest_last_and_the_layout_version(stored):
    store, cell, _ = stored
    manifest = json.loads((store.cell_dir(cell.cell_key) / "cell.json").read_text())
    assert json.loads((store.root / "store.json").read_text()) == {"layout": LAYOUT}
    names = sorted(p.name for p in store.cell_dir(cell.cell_key).glob("*.parquet"))
    assert sorted(manifest["files"]) == names and len(names) == 4  # generations, grades, 2 score files
    assert manifest["files"]["generations.parquet"]["rows"] == cell.n_samples
    assert manifest["task_hash"] == cell.task_hash
    assert store.state(cell.cell_key, *_required(store)) == ("done", "")
    task_hash, scores = _required(store)
    state, reason = store.state(cell.cell_key, task_hash, [*scores, "newmetric"])
    assert state == "partial" and "scores-newmetric.parquet" in reason  # a new metric: scored, not regenerated


def _damage(path, how):
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "bad-json-metadata":
        table = pq.read_table(path)
        pq.write_table(table.replace_schema_metadata({b"creval": b"{not json"}), path)


@pytest.mark.parametrize("how", ["truncated", "empty", "bad-json-metadata"])
@pytest.mark.parametrize("which", ["generations", "grades", "scores"])
def test_a_damaged_file_is_a_one_line_error_naming_cell_and_file_and_never_counts_as_done(stored, capsys, which, how):
    store, cell, ckpt = stored
    key = cell.cell_key
    path = next(store.cell_dir(key).glob(f"{which}*.parquet"))
    _damage(path, how)
    readers = [lambda: read_results(store.root)] + ([lambda: store.read_generations(key)] if which == "generations" else [])
    for reader in readers:
        with pytest.raises(CrevalError) as err:
            reader()
        assert f"cell {key}" in str(err.value) and path.name in str(err.value)
    assert store.state(key, *_required(store))[0] == "corrupt"  # the manifest no longer matches: not done
    assert main(["store", "verify", str(store.root)]) == 1
    assert path.name in capsys.readouterr().out
    assert main(["compare", str(store.root), str(store.root)]) == 2  # a one-line error, not a traceback
    assert f"cell {key}" in capsys.readouterr().err
    if which == "generations":
        assert main(["audit-grader", "--task", "mini_math", "--generations", str(store.cell_dir(key))]) == 2
        assert path.name in capsys.readouterr().err

    assert main(["store", "verify", "--repair", str(store.root)]) == 0
    moved = list((store.root / "damaged").rglob(path.name))
    assert len(moved) == 1  # set aside, never deleted
    again = creval.run(str(ckpt), ["mini_writing"], CONFIG, metrics=METRICS, out=str(store.root)).cells[0]
    assert again.cached == (which != "generations")  # only damaged generations are generated again
    assert [s.mean for s in again.summaries] == pytest.approx([s.mean for s in cell.summaries], nan_ok=True)
    assert main(["store", "verify", str(store.root)]) == 0


def test_an_old_layout_store_is_migrated_on_first_read(stored, tmp_path):
    store, cell, _ = stored
    old = tmp_path / "old"
    shutil.copytree(store.root, old)
    (old / "store.json").unlink()
    (old / "cells" / cell.cell_key / "cell.json").unlink()
    # a layout-1 cell killed before its scores: migrated too, and then partial (scored by the next run)
    shutil.copytree(old / "cells" / cell.cell_key, old / "cells" / "partialcell")
    for p in (old / "cells" / "partialcell").glob("scores-*"):
        p.unlink()
    migrated = Store(old)
    assert migrated.state(cell.cell_key, *_required(migrated)) == ("done", "")
    assert json.loads((old / "store.json").read_text()) == {"layout": LAYOUT}
    assert migrated.state("partialcell", *_required(migrated))[0] == "partial"
    assert repr(read_cell(migrated, cell.cell_key).values) == repr(read_cell(store, cell.cell_key).values)  # NaN-safe
    (old / "store.json").write_text(json.dumps({"layout": LAYOUT + 1}))
    with pytest.raises(CrevalError, match="newer creval"):
        read_results(old)


def test_readers_take_the_current_graders_grades_and_scores(stored):
    """A cell scored by an older grader keeps those files; readers take the current grader's only."""
    from creval.frames import table_to_grades
    from creval.leaderboards.site import samples

    store, cell, _ = stored
    key = cell.cell_key
    _, meta = store.read_generations(key)
    gen_id = meta["generation_id"]
    grades = store.current_grades(key)
    stale_grades = grades.set_column(grades.schema.get_field_index("correct"), "correct",
                                     pa.array([True] * grades.num_rows))
    store.write_derived(store.cell_dir(key) / "grades-0000000000000000.parquet", stale_grades,
                        {"task_hash": "0000000000000000"}, gen_id)  # sorts first by file name
    scores = next(store.current_scores(key, gen_id))
    stale = scores.set_column(scores.schema.get_field_index("value"), "value", pa.array([999.0] * scores.num_rows))
    store.write_derived(store.scores_path(key, "zzzzzzzz"), stale, {"task_hash": "0000000000000000"}, gen_id)
    store.finish_cell(key, cell.task_hash)
    values = read_cell(store, key).values
    assert values and all(v != 999.0 for per in values.values() for v in per.values())
    placed = [(SimpleNamespace(key=key, schedule="s", step=0), read_cell(store, key))]
    shown = samples(placed, store.root)["s"]["mini_writing"]
    current = table_to_grades(grades)
    for pid, by_step in shown.items():
        # a shown sample: [text, correct (1/0/None), answer, entropy, note]
        assert [s[1] for s in by_step["0"]] == [None if g.correct is None else int(g.correct) for g in current[pid]]
