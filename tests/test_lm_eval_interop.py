"""lm-eval tasks as creval tasks: documents, prompt, target, stop sequences and lm-eval's own grading,
checked against lm-eval's own evaluation of the same generations (offline: a local YAML task over the
shared GSM8K file, a tiny local checkpoint)."""
import os
from pathlib import Path

import pytest

if os.environ.get("CI") == "true":
    import lm_eval  # noqa: F401  (CI must run these)
else:
    pytest.importorskip("lm_eval")

from conftest import SHARED

import creval
from creval.errors import CrevalError
from creval.records import Generation, GenerationConfig
from creval.runner import load_task

YAML = """task: creval_gsm8k_local
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer.split('####')[-1].strip()}}}}"
generation_kwargs:
  until: ["Question:", "\\n\\n"]
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
filter_list:
  - name: flexible-extract
    filter:
      - function: regex
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{{2,}})|(-?[0-9]+)"
      - function: take_first
num_fewshot: 0
metadata:
  version: 1.0
"""


@pytest.fixture(scope="module")
def include(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm_eval_tasks")
    (folder / "creval_gsm8k_local.yaml").write_text(YAML.format(data=SHARED / "gsm8k" / "test.jsonl"))
    return folder


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_documents_prompt_target_and_stop_come_from_lm_eval(include):
    task = load_task(f"lm_eval:creval_gsm8k_local:include_path={include}:limit=4")
    assert len(task.prompt_set) == 4 and task.stop == ("Question:", "\n\n") and task.family == "math"
    p = task.prompt_set[0]
    assert p.text.startswith("Question: Janet") and p.text.endswith("\nAnswer:") and p.reference["target"] == "18"
    assert task.grade(p, gen(" She makes 18 dollars.")).correct is True
    assert task.grade(p, gen(" 19")).correct is False
    assert "lm-eval/" in task.grader_id() and task.label.startswith("lm_eval:creval_gsm8k_local")


def test_verdicts_agree_with_lm_evals_own_evaluation(include, tiny_ckpt):
    import lm_eval
    from lm_eval.tasks import TaskManager

    out = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={tiny_ckpt},dtype=float32",
                                  tasks=["creval_gsm8k_local"], task_manager=TaskManager(include_path=str(include)),
                                  limit=6, log_samples=True, gen_kwargs="max_gen_toks=12", device="cpu")
    samples = out["samples"]["creval_gsm8k_local"]
    task = load_task(f"lm_eval:creval_gsm8k_local:include_path={include}:limit=6")
    assert len(samples) == 6
    for s in samples:
        prompt = task.prompt_set[s["doc_id"]]
        response = s["resps"][0][0]
        assert task.grade(prompt, gen(response)).correct == bool(s["exact_match"])
    # and a planted right answer, through both graders' logic
    assert task.grade(task.prompt_set[1], gen(f" so {task.prompt_set[1].reference['target']}.")).correct


def test_creval_run_on_an_lm_eval_task(include, tiny_ckpt, tmp_path):
    result = creval.run(str(tiny_ckpt), [f"lm_eval:creval_gsm8k_local:include_path={include}:limit=3"],
                        GenerationConfig(n=2, max_new_tokens=8), out=str(tmp_path))
    cell = result.cells[0]
    assert cell.n_samples == 6 and {"pass@1", "distinct-1", "token_entropy"} <= {s.statistic for s in cell.summaries}


def test_unknown_lm_eval_task_is_a_clear_error(include):
    with pytest.raises(CrevalError, match="lm-eval knows no task 'nope'"):
        load_task(f"lm_eval:nope:include_path={include}")
    with pytest.raises(CrevalError, match="name the lm-eval task"):
        load_task("lm_eval:limit=3")


def test_creval_metrics_inside_lm_eval(tiny_ckpt, tmp_path, capsys):
    import lm_eval
    from lm_eval.tasks import TaskManager

    from creval.cli.main import main
    from creval.metrics.distinct_n import distinct_n

    assert main(["lm-eval-tasks", str(tmp_path / "pkg"), "--k", "3"]) == 0
    assert "creval_writing" in capsys.readouterr().out
    out = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={tiny_ckpt},dtype=float32", device="cpu",
                                  tasks=["creval_writing", "creval_math"], limit=3, log_samples=True,
                                  task_manager=TaskManager(include_path=str(tmp_path / "pkg")), gen_kwargs="max_gen_toks=10")
    writing, math = out["results"]["creval_writing"], out["results"]["creval_math"]
    assert {"distinct_2,all-samples", "self_bleu,all-samples", "compression_ratio,all-samples",
            "embedding_diversity,all-samples"} <= set(writing)
    assert {"pass_at_1,all-samples", "pass_at_3,all-samples"} <= set(math)
    for sample in out["samples"]["creval_writing"]:
        responses = [r for group in sample["resps"] for r in (group if isinstance(group, list) else [group])]
        assert len(responses) == 3  # lm-eval's repeats: k samples per document, all scored
        expected = distinct_n(responses, 2)
        assert sample["distinct_2"] == (0.0 if expected != expected else expected)


HUMANEVAL_YAML = """task: creval_humaneval_local
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{test}}}}"
generation_kwargs:
  until: ["\\nclass", "\\ndef", "\\n#", "\\nif", "\\nprint"]
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def test_humaneval_shaped_lm_eval_tasks_are_graded_in_creval_sandbox(tmp_path):
    """lm-eval grades HumanEval with evaluate.load('code_eval') (hub, no isolation); creval's sandbox instead."""
    import gzip
    import json

    (tmp_path / "he.yaml").write_text(HUMANEVAL_YAML.format(data=SHARED / "humaneval" / "HumanEval.jsonl.gz"))
    task = load_task(f"lm_eval:creval_humaneval_local:include_path={tmp_path}:limit=5")
    assert task.family == "code" and task.native and task.grader_id().startswith("creval-sandbox/")
    rows = [json.loads(line) for line in gzip.open(SHARED / "humaneval" / "HumanEval.jsonl.gz", "rt")][:5]
    for prompt, row in zip(task.prompt_set, rows):
        assert task.grade(prompt, gen(row["canonical_solution"])).correct is True
        assert task.grade(prompt, gen("    return None\n")).correct is False
    lm = load_task(f"lm_eval:creval_humaneval_local:include_path={tmp_path}:limit=5:grader=lm-eval")
    assert not lm.native and lm.grader_id().startswith("lm-eval/")


def test_the_task_package_is_yaml_dumped_and_survives_a_path_with_colon_space(tmp_path):
    import yaml

    from creval.tasks.lm_eval_package import task_yaml, write_package

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: ("function", loader.construct_scalar(node)))
    data = tmp_path / "data: v1" / "mini.jsonl"  # "key: value" inside a hand-formatted YAML value breaks it
    doc = yaml.load(task_yaml("t", data, "Q: {{q}}\nA:", "{{a}}", 3, "math_results", ["pass_at_1"]), Loader=Loader)
    assert doc["dataset_kwargs"]["data_files"]["test"] == str(data)
    assert doc["doc_to_text"] == "Q: {{q}}\nA:" and doc["generation_kwargs"]["until"] == ["\n\n"]
    assert doc["process_results"] == ("function", "utils.math_results") and doc["repeats"] == 3
    pkg = tmp_path / "pkg: 1"
    assert [p.name for p in write_package(pkg, k=3)] == ["utils.py", "creval_writing.yaml", "creval_math.yaml"]
    from creval.tasks import lm_eval_utils

    assert (pkg / "utils.py").read_text() == Path(lm_eval_utils.__file__).read_text()  # the module, copied as is
