"""creval's metrics inside lm-evaluation-harness: ``creval lm-eval-tasks PATH`` writes a task package
that ``lm_eval --include_path PATH --tasks creval_writing,creval_math`` runs.

Each task samples k responses per document (``repeats: k``, kept whole by a ``take_first_k`` filter)
and scores them per document with creval's metric code (``utils.py`` imports creval): writing gets
distinct-1/2, self-BLEU (sacrebleu), compression ratio and, where sentence-transformers is installed,
embedding diversity; math gets pass@1 and pass@k (creval's extraction chain + math-verify grader) and
distinct-2. lm-eval averages them over documents. The data are creval's bundled mini suite, so the
package runs offline.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

UTILS = '''"""Per-document metric functions for lm-eval, computed by creval (written by `creval lm-eval-tasks`)."""
from creval.metrics.compression_ratio import compression_ratio
from creval.metrics.distinct_n import distinct_n
from creval.metrics.pass_at_k import pass_at_k
from creval.metrics.self_bleu import SelfBLEU
from creval.records import Generation, Prompt
from creval.tasks.mini_math import MiniMath

_BLEU = SelfBLEU()
_MATH = MiniMath()


def _gens(texts):
    return [Generation(t, (), (), None, "none", "stop") for t in texts]


def writing_results(doc, results):
    samples = list(results[0])
    out = {"distinct_1": distinct_n(samples, 1), "distinct_2": distinct_n(samples, 2),
           "self_bleu": _BLEU.score(Prompt("d", ""), _gens(samples), [])["self-bleu"],
           "compression_ratio": compression_ratio(samples)}
    try:
        from creval.metrics.embedding_diversity import EmbeddingDiversity

        metric = EmbeddingDiversity()
        if metric.unavailable() is None:
            out["embedding_diversity"] = metric.score(Prompt("d", ""), _gens(samples), [])["embedding-diversity"]
    except ImportError:
        pass
    return {k: (0.0 if v != v else v) for k, v in out.items()}


def math_results(doc, results):
    samples = list(results[0])
    prompt = Prompt(doc["id"], doc["question"], reference=doc["answer"])
    correct = sum(bool(_MATH.grade(prompt, g).correct) for g in _gens(samples))
    n = len(samples)
    return {"pass_at_1": pass_at_k(n, correct, 1), f"pass_at_{n}": pass_at_k(n, correct, n),
            "distinct_2": distinct_n(samples, 2) if distinct_n(samples, 2) == distinct_n(samples, 2) else 0.0}
'''

TASK = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{text}"
doc_to_target: "{target}"
repeats: {k}
generation_kwargs:
  until: ["\\n\\n"]
  do_sample: true
  temperature: 1.0
  max_gen_toks: 256
filter_list:
  - name: all-samples
    filter:
      - function: take_first_k
        k: {k}
process_results: !function utils.{function}
metric_list:
{metrics}
metadata:
  version: 1.0
"""


def _metrics(names: list[str]) -> str:
    return "\n".join(f"  - metric: {m}\n    aggregation: mean\n    higher_is_better: true" for m in names)


def write_package(path: Path, k: int = 4) -> list[Path]:
    """Write the task package to ``path``; returns the files written."""
    path.mkdir(parents=True, exist_ok=True)
    data = files("creval.tasks").joinpath("data")
    writing = TASK.format(name="creval_writing", data=data.joinpath("mini_writing.jsonl"), text="{{prompt}}",
                          target="", k=k, function="writing_results",
                          metrics=_metrics(["distinct_1", "distinct_2", "self_bleu", "compression_ratio",
                                            "embedding_diversity"]))
    math = TASK.format(name="creval_math", data=data.joinpath("mini_math.jsonl"),
                       text="Question: {{question}}\\nAnswer:", target="{{answer}}", k=k, function="math_results",
                       metrics=_metrics(["pass_at_1", f"pass_at_{k}", "distinct_2"]))
    written = []
    for name, text in (("utils.py", UTILS), ("creval_writing.yaml", writing), ("creval_math.yaml", math)):
        (path / name).write_text(text)
        written.append(path / name)
    return written
