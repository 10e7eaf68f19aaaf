"""The real path end to end: load, sample, grade, score, store; re-runs read the store."""
import pandas as pd
import pyarrow.parquet as pq
import pytest

import creval
from creval import registry
from creval.backends.hf import HFBackend
from creval.records import GenerationConfig
from creval.store import Store

CONFIG = GenerationConfig(n=2, max_new_tokens=12, seed=0)


@pytest.fixture
def count_generate(monkeypatch):
    calls = []
    real = HFBackend.generate

    def counting(self, prompts, config, progress=None):
        calls.append(len(prompts))
        return real(self, prompts, config, progress)

    monkeypatch.setattr(HFBackend, "generate", counting)
    return calls


def test_run_stores_cells_and_rerun_reads_them_back(tiny_ckpt, tmp_path, count_generate):
    out = tmp_path / "results"
    first = creval.run(str(tiny_ckpt), config=CONFIG, out=str(out))
    assert [c.task for c in first.cells] == ["mini_math", "mini_code", "mini_writing"]
    assert not any(c.cached for c in first.cells) and count_generate == [22, 16, 20]

    second = creval.run(str(tiny_ckpt), config=CONFIG, out=str(out))
    assert all(c.cached for c in second.cells) and count_generate == [22, 16, 20]  # nothing regenerated
    assert repr([c.summaries for c in second.cells]) == repr([c.summaries for c in first.cells])  # NaN-safe

    writing = next(c for c in first.cells if c.task == "mini_writing")
    assert {s.statistic for s in writing.summaries} == {
        "distinct-1", "distinct-1-li", "distinct-1-corpus", "distinct-2", "distinct-2-li", "distinct-2-corpus",
        "self-bleu", "compression-ratio",
        "token_entropy", "token_entropy_tokw", "token_entropy_lo", "token_entropy_hi",
        "token_entropy_model", "token_entropy_model_tokw", "token_entropy_model_lo", "token_entropy_model_hi"}
    math_cell = first.cells[0]
    assert [s.statistic for s in math_cell.summaries][:2] == ["pass@1", "pass@2"]
    assert math_cell.n_samples == 44 and 0 <= math_cell.truncation_rate <= 1

    # readable with pandas; provenance in the Parquet metadata
    frame = pd.read_parquet(out / "cells" / math_cell.cell_key / "generations.parquet")
    assert len(frame) == 44 and set(frame["finish_reason"]) <= {"stop", "length"}
    assert (frame["n_tokens"] == frame["token_ids"].map(len)).all()
    _, meta = Store(out).read_generations(math_cell.cell_key)
    assert meta["fingerprint"] == first.fingerprint and meta["config"]["n"] == 2
    assert meta["task"]["task_hash"] == math_cell.task_hash and "torch" in meta["versions"]
    assert not list(out.rglob(".*.tmp"))


def test_force_regenerates_and_rescoring_needs_no_generation(tiny_ckpt, tmp_path, count_generate):
    out = str(tmp_path / "results")
    creval.run(str(tiny_ckpt), ["mini_writing"], CONFIG, out=out, metrics=["distinct_n"])
    key = creval.run(str(tiny_ckpt), ["mini_writing"], CONFIG, out=out).cells[0].cell_key
    assert count_generate == [20]  # a new metric on a stored cell is scored from its generations
    _, before = Store(out).read_generations(key)
    forced = creval.run(str(tiny_ckpt), ["mini_writing"], CONFIG, out=out, force=True)
    _, after = Store(out).read_generations(key)
    assert count_generate == [20, 20] and not forced.cells[0].cached
    assert after["generation_id"] != before["generation_id"]
    scores = [pq.read_metadata(p).metadata[b"creval"] for p in Store(out).cell_dir(key).glob("scores-*.parquet")]
    assert all(after["generation_id"].encode() in s for s in scores)


def test_a_different_checkpoint_or_config_is_a_different_cell(tiny_ckpt, sharp_ckpt, tmp_path):
    out = str(tmp_path / "results")
    a = creval.run(str(tiny_ckpt), ["mini_writing"], CONFIG, out=out).cells[0]
    b = creval.run(str(sharp_ckpt), ["mini_writing"], CONFIG, out=out).cells[0]
    c = creval.run(str(tiny_ckpt), ["mini_writing"], GenerationConfig(n=2, max_new_tokens=12, seed=1), out=out).cells[0]
    assert len({a.cell_key, b.cell_key, c.cell_key}) == 3 and len(Store(out).cells()) == 3
    entropy = {s.statistic: s.mean for s in b.summaries}["token_entropy"]
    assert entropy < {s.statistic: s.mean for s in a.summaries}["token_entropy"]


def test_a_third_party_task_registers_without_forking(tiny_ckpt, tmp_path, monkeypatch):
    monkeypatch.setitem(registry._extra["tasks"], "plugin_echo", "plugin_task:EchoTask")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "plugin_task.py").write_text(
        "from creval.task import Task\nfrom creval.records import Prompt, Grade\n"
        "class EchoTask(Task):\n    name = 'plugin_echo'\n    version = '1'\n    family = 'math'\n"
        "    def prompts(self):\n        return [Prompt('e1', 'Say 4', reference='4')]\n"
        "    def grade(self, prompt, generation):\n        return Grade(correct='4' in generation.text)\n"
    )
    result = creval.run(str(tiny_ckpt), ["plugin_echo"], CONFIG, out=str(tmp_path / "r"))
    assert result.cells[0].task == "plugin_echo" and result.cells[0].n_samples == 2


def test_statistics_across_prompts_are_stored_once_per_cell(tiny_ckpt, tmp_path):
    from creval.metrics.distinct_n import distinct_n

    result = creval.run(str(tiny_ckpt), ["mini_writing"], CONFIG, out=str(tmp_path), metrics=["distinct_n:n=2"])
    cell = result.cells[0]
    corpus = next(s for s in cell.summaries if s.statistic == "distinct-2-corpus")
    frame = pd.read_parquet(tmp_path / "cells" / cell.cell_key / "generations.parquet")
    assert corpus.mean == pytest.approx(distinct_n(list(frame["text"]), 2)) and corpus.note == "across prompts"
    per_prompt = next(s for s in cell.summaries if s.statistic == "distinct-2")
    assert corpus.mean <= per_prompt.mean + 1e-9 and corpus.n_prompts == 20


def test_temporary_files_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    import pyarrow as pa

    store = Store(tmp_path)
    cell = store.cell_dir("k")
    cell.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname().replace(".", "-")
    orphan = cell / f".generations.parquet.{host}.{dead.stdout.strip()}.abc.tmp"
    alive = cell / f".grades-x.parquet.{host}.{os.getpid()}.def.tmp"
    orphan.write_bytes(b"half")
    alive.write_bytes(b"in progress")
    store.write_derived(store.scores_path("k", "s"), pa.table({"a": [1]}), {}, "gen")
    assert not orphan.exists() and alive.exists()
