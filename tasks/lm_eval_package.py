"""creval's metrics inside lm-evaluation-harness: ``creval lm-eval-tasks PATH`` writes a task package
that ``lm_eval --include_path PATH --tasks creval_writing,creval_math`` runs.

Each task samples k responses per document (``repeats: k``, kept whole by a ``take_first_k`` filter)
and scores them per document with creval's metric code (``utils.py``, a copy of
``creval/tasks/lm_eval_utils.py``, imports creval): writing gets
distinct-1/2, self-BLEU (sacrebleu), compression ratio and, where sentence-transformers is installed,
embedding diversity; math gets pass@1 and pass@k (creval's extraction chain + math-verify grader) and
distinct-2. lm-eval averages them over documents. The data are creval's bundled mini suite, so the
package runs offline.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml


def _metrics(names: list[str]) -> list[dict[str, Any]]:
    return [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in names]


class _Function(str):
    """lm-eval's ``!function module.name`` tag."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Function, lambda dumper, value: dumper.represent_scalar("!function", str(value)))


def task_yaml(name: str, data: Path, text: str, target: str, k: int, function: str, metrics: list[str]) -> str:
    """One task's YAML: documents from the JSONL file ``data``, k samples each, scored by ``utils.function``."""
    task = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": text,
        "doc_to_target": target,
        "repeats": k,
        "generation_kwargs": {"until": ["\n\n"], "do_sample": True, "temperature": 1.0, "max_gen_toks": 256},
        "filter_list": [{"name": "all-samples", "filter": [{"function": "take_first_k", "k": k}]}],
        "process_results": _Function(f"utils.{function}"),
        "metric_list": _metrics(metrics),
        "metadata": {"version": 1.0},
    }
    return yaml.dump(task, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def write_package(path: Path, k: int = 4) -> list[Path]:
    """Write the task package to ``path``; returns the files written."""
    path.mkdir(parents=True, exist_ok=True)
    data = files("creval.tasks").joinpath("data")
    writing = task_yaml("creval_writing", Path(str(data.joinpath("mini_writing.jsonl"))), "{{prompt}}", "", k,
                        "writing_results", ["distinct_1", "distinct_2", "self_bleu", "compression_ratio",
                                            "embedding_diversity"])
    math = task_yaml("creval_math", Path(str(data.joinpath("mini_math.jsonl"))), "Question: {{question}}\nAnswer:",
                     "{{answer}}", k, "math_results", ["pass_at_1", f"pass_at_{k}", "distinct_2"])
    utils = files("creval.tasks").joinpath("lm_eval_utils.py").read_text(encoding="utf-8")
    written = []
    for name, text in (("utils.py", utils), ("creval_writing.yaml", writing), ("creval_math.yaml", math)):
        (path / name).write_text(text, encoding="utf-8")
        written.append(path / name)
    return written
