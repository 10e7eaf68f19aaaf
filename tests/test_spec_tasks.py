"""User-defined tasks from YAML/JSON specs: run end to end, and every mistake named precisely."""
import json

import pytest
from conftest import SHARED

import creval
from creval.errors import CrevalError
from creval.records import Generation, GenerationConfig
from creval.runner import load_task

GSM8K_FILE = SHARED / "gsm8k" / "test.jsonl"


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def write(tmp_path, text, name="task.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def gsm8k_spec(tmp_path, extra=""):
    return write(tmp_path, f"""
name: my_gsm8k
family: math
dataset: {GSM8K_FILE}
prompt: "Question: {{question}}\\nEnd with \\\\boxed{{}}."
answer_field: answer
answer_regex: "####\\\\s*(.+)"
limit: 5
{extra}""")


def test_yaml_math_spec_loads_renders_and_grades(tmp_path):
    task = load_task(gsm8k_spec(tmp_path))
    assert task.name == "my_gsm8k" and task.family == "math" and len(task.prompt_set) == 5
    p = task.prompt_set[0]
    first = json.loads(GSM8K_FILE.read_text().splitlines()[0])
    assert p.text == f"Question: {first['question']}\nEnd with \\boxed{{}}." and p.reference == "18"
    assert task.grade(p, gen("so \\boxed{18}")).correct and not task.grade(p, gen("\\boxed{19}")).correct


def test_spec_task_runs_through_creval_run(tmp_path, tiny_ckpt):
    spec = gsm8k_spec(tmp_path)
    result = creval.run(str(tiny_ckpt), [spec], GenerationConfig(n=2, max_new_tokens=8), out=str(tmp_path / "r"))
    cell = result.cells[0]
    assert cell.task == "my_gsm8k" and cell.n_samples == 10 and {s.statistic for s in cell.summaries} >= {"pass@1"}


def test_json_code_spec_with_tests_and_reference(tmp_path):
    data = tmp_path / "code.jsonl"
    data.write_text(json.dumps({"q": "Write inc(x).", "tests": ["assert inc(1) == 2"], "fn": "inc",
                                "ref": "def inc(x):\n    return x + 1\n"}) + "\n")
    spec = write(tmp_path, json.dumps({"name": "inc", "family": "code", "dataset": str(data), "prompt": "{q}",
                                       "tests_field": "tests", "entry_point_field": "fn", "solution_field": "ref"}),
                 "task.json")
    task = load_task(spec)
    p = task.prompt_set[0]
    graded = task.grade_batch([(p, gen("```python\ndef inc(x):\n    return x + 1\n```")),
                               (p, gen("def inc(x):\n    return x\n")),
                               (p, gen("class T:\n    def __eq__(s, o): return True\ndef inc(x):\n    return T()\n"))])
    assert [(g.correct, g.status) for g in graded] == [(True, "passed"), (False, "failed"), (False, "suspicious")]


@pytest.mark.parametrize("text, message", [
    ("name: t\nfamily: maths\ndataset: x\nprompt: p\n", "family: expected one of 'math', 'code' or 'writing', got 'maths'"),
    ("name: t\nfamily: math\ndataset: x\nprompt: p\nanswer_field: a\npromt: q\n", "top level: unknown key 'promt' (known: answer_field, answer_regex"),
    ("name: t\nfamily: math\nprompt: p\nanswer_field: a\n", "dataset: missing (required)"),
    ("name: t\nfamily: math\ndataset: x\nprompt: p\n", "grader 'math' needs field 'answer_field'"),
    ("name: t\nfamily: writing\ndataset: x\nprompt: [1, 2]\n", "prompt: expected a string, got [1, 2]"),
    ("name: t\nfamily: math\ndataset: x\nprompt: p\nlimit: lots\nanswer_field: a\n", "limit: expected an integer, got 'lots'"),
    ("name: t t\nfamily: writing\ndataset: x\nprompt: p\n", "name: expected letters, digits, _ or -, got 't t'"),
    ("name: t\nfamily: writing\n  dataset: x\nprompt: p\n", "not valid YAML (line 3, column"),
    ("- just\n- a list\n", "expected a mapping of fields"),
    ("name: t\nfamily: math\ndataset: x\nprompt: p\nanswer_field: a\nanswer_regex: '(['\n", "not a valid regular expression"),
])
def test_spec_errors_name_the_file_and_the_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(CrevalError) as err:
        load_task(path).prompt_set
    assert str(err.value).startswith(path + ": ") and message in str(err.value)


def test_spec_errors_about_the_data(tmp_path):
    with pytest.raises(CrevalError, match=r"placeholder \{questoin\} is not a column of the dataset \(columns: answer, question\)"):
        load_task(write(tmp_path, f"name: t\nfamily: writing\ndataset: {GSM8K_FILE}\nprompt: '{{questoin}}'\n")).prompt_set
    with pytest.raises(CrevalError, match="field 'answer_field': column 'gold' is not in the dataset"):
        load_task(write(tmp_path, f"name: t\nfamily: math\ndataset: {GSM8K_FILE}\nprompt: '{{question}}'\nanswer_field: gold\n")).prompt_set
    with pytest.raises(CrevalError, match="cannot read task spec"):
        load_task(str(tmp_path / "missing.yaml"))


def test_exact_grader_normalises_text(tmp_path):
    data = tmp_path / "caps.jsonl"
    data.write_text(json.dumps({"q": "Capital of France?", "a": "Paris"}) + "\n")
    task = load_task(write(tmp_path, f"name: caps\nfamily: math\ndataset: {data}\nprompt: '{{q}}'\nanswer_field: a\ngrader: exact\n"))
    p = task.prompt_set[0]
    assert task.grade(p, gen("It is\n  paris.  ")).correct and task.grade(p, gen("The answer is PARIS")).correct
    assert not task.grade(p, gen("Lyon")).correct
