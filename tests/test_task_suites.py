"""Real task suites on real data (../shared/datasets) and on small files in the hub formats."""
import ast
import gzip
import json

import pytest
from conftest import SHARED

from creval.errors import CrevalError
from creval.records import Generation
from creval.runner import load_task
from creval.tasks.gsm8k import GSM8K, GSM8KFewShot
from creval.tasks.humaneval import HumanEval, HumanEvalInstruct, preamble_of

GSM8K_FILE = SHARED / "gsm8k" / "test.jsonl"
HUMANEVAL_FILE = SHARED / "humaneval" / "HumanEval.jsonl.gz"
NOVELTY_FILE = SHARED / "noveltybench" / "curated.jsonl"


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_every_gsm8k_gold_answer_grades_correct_and_plus_one_wrong():
    task = GSM8K(data=str(GSM8K_FILE))
    rows = [json.loads(line) for line in GSM8K_FILE.read_text().splitlines()]
    assert len(task.prompt_set) == len(rows) == 1319
    for prompt, row in zip(task.prompt_set, rows):
        right = task.grade(prompt, gen(row["answer"]))  # the worked solution itself, ending in #### N
        assert right.correct is True and right.detail == "rule:hash", (prompt.id, row["answer"][-30:])
        wrong = task.grade(prompt, gen(f"#### {int(prompt.reference) + 1}"))
        assert wrong.correct is False, prompt.id


def test_gsm8k_fewshot_is_a_completion_prompt_that_stops_at_the_next_question():
    task = GSM8KFewShot(data=str(GSM8K_FILE), limit=3)
    p = task.prompt_set[0]
    assert p.style == "completion" and p.text.count("Q: ") == 5 and p.text.endswith("\nA:")
    assert task.stop == ("Q:",) and len(task.prompt_set) == 3
    assert task.grade(p, gen(f" Some steps. The answer is {p.reference}.")).correct is True


def test_all_humaneval_canonical_solutions_pass_and_stub_bodies_fail():
    task = HumanEval(data=str(HUMANEVAL_FILE))
    rows = [json.loads(line) for line in gzip.open(HUMANEVAL_FILE, "rt")]
    assert len(task.prompt_set) == len(rows) == 164
    right = [(p, gen(r["canonical_solution"])) for p, r in zip(task.prompt_set, rows)]
    grades = task.grade_batch(right)
    failed = [(p.id, g.status, g.detail[-200:]) for (p, _), g in zip(right, grades) if g.correct is not True]
    assert not failed
    stubs = [(p, gen(body)) for body in ("    return None\n", "    pass\n") for p in task.prompt_set]
    assert not [p.id for (p, _), g in zip(stubs, task.grade_batch(stubs)) if g.correct is not False]


def entry_point_with_imports_inside(prompt, body, entry_point):
    """The entry point alone, with the prompt's imports moved into its body: a model that writes one
    self-contained function (HumanEval/32's helper ``poly`` then comes from the prompt)."""
    source = prompt + body
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    imports = [ast.get_source_segment(source, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point)
    first = fn.body[0]
    indent = " " * first.col_offset
    head = "".join(lines[fn.lineno - 1:first.lineno - 1])
    return head + "".join(f"{indent}{i}\n" for i in imports) + "".join(lines[first.lineno - 1:fn.end_lineno])


def test_humaneval_instruct_canonical_solutions_pass_in_every_answer_shape_and_stubs_fail():
    task = HumanEvalInstruct(data=str(HUMANEVAL_FILE))
    rows = [json.loads(line) for line in gzip.open(HUMANEVAL_FILE, "rt")]
    shapes = {
        "fenced whole": lambda r: f"Here is the function:\n```python\n{r['prompt']}{r['canonical_solution']}```\nDone.",
        "bare whole": lambda r: r["prompt"] + r["canonical_solution"],
        "fenced body": lambda r: f"```python\n{r['canonical_solution']}```",
        "entry point, imports inside": lambda r: "```python\n" + entry_point_with_imports_inside(
            r["prompt"], r["canonical_solution"], r["entry_point"]) + "```",
        "return None": lambda r: f"```python\n{r['prompt']}    return None\n```",
        "pass": lambda r: f"```python\n{r['prompt']}    pass\n```",
    }
    items = [(p, gen(shape(r))) for shape in shapes.values() for p, r in zip(task.prompt_set, rows)]
    grades = iter(task.grade_batch(items))
    passed = {name: [p.id for p in task.prompt_set if next(grades).correct] for name in shapes}
    assert {name: len(ids) for name, ids in passed.items()} == {
        "fenced whole": 164, "bare whole": 164, "fenced body": 164, "entry point, imports inside": 164,
        "return None": 0, "pass": 0}


def test_humaneval_instruct_preamble_is_top_level_code_only():
    rows = {r["task_id"]: r for r in map(json.loads, gzip.open(HUMANEVAL_FILE, "rt"))}
    # /115 imports math inside its body, /99 and /129 have docstring lines starting with "from"
    for task_id in ("HumanEval/115", "HumanEval/99", "HumanEval/129"):
        assert preamble_of(rows[task_id]["prompt"], rows[task_id]["entry_point"]) == ""
    assert preamble_of(rows["HumanEval/0"]["prompt"], "has_close_elements") == "from typing import List\n"
    helper = preamble_of(rows["HumanEval/38"]["prompt"], "decode_cyclic")
    assert helper.startswith("def encode_cyclic(s: str):") and "decode_cyclic" not in helper
    assert preamble_of(rows["HumanEval/64"]["prompt"], "vowels_count").startswith('FIX = """')


def test_humaneval_instruct_prompt_that_is_not_python_fails_at_load(tmp_path):
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps({"task_id": "X/0", "prompt": "def f(:\n", "canonical_solution": "", "test": "",
                                "entry_point": "f"}) + "\n")
    with pytest.raises(CrevalError, match="X/0: the prompt is not valid Python"):
        HumanEvalInstruct(data=str(path)).prompt_set


MBPP_ROWS = [
    {"task_id": 901, "text": "Write a function to return the sum of the squares of a list of integers.",
     "code": "def sum_squares(xs):\n    return sum(x * x for x in xs)", "test_setup_code": "",
     "test_list": ["assert sum_squares([1, 2]) == 5", "assert sum_squares([]) == 0", "assert sum_squares([-3]) == 9"],
     "challenge_test_list": []},
    {"task_id": 902, "text": "Write a function to find the longest word in a sentence.",
     "code": "def longest_word(s):\n    return max(s.split(), key=len)", "test_setup_code": "import math",
     "test_list": ["assert longest_word('a bb ccc') == 'ccc'", "assert longest_word('hello') == 'hello'"],
     "challenge_test_list": []},
]


@pytest.mark.parametrize("subset", ["full", "sanitized"])
def test_mbpp_local_file_in_both_hub_formats(tmp_path, subset):
    path = tmp_path / "test.jsonl"
    rows = MBPP_ROWS if subset == "full" else [
        {"task_id": r["task_id"], "prompt": r["text"], "code": r["code"], "test_list": r["test_list"],
         "test_imports": [r["test_setup_code"]] if r["test_setup_code"] else [], "source_file": "x"} for r in MBPP_ROWS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_task(f"mbpp:data={path}:subset={subset}")
    p = task.prompt_set[0]
    assert p.id == "mbpp-901" and "Your code should pass these tests" in p.text and p.reference["entry_point"] == "sum_squares"
    right = [(p, gen(f"```python\n{r['code']}\n```")) for p, r in zip(task.prompt_set, MBPP_ROWS)]
    wrong = [(p, gen("```python\ndef sum_squares(xs):\n    return 0\ndef longest_word(s):\n    return ''\n```"))
             for p in task.prompt_set]
    assert [g.correct for g in task.grade_batch(right + wrong)] == [True, True, False, False]


def test_mbpp_completion_style_stops_at_the_closing_fence(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in MBPP_ROWS))
    task = load_task(f"mbpp:data={path}:style=completion")
    assert task.stop == ("```",) and task.prompt_set[0].text.endswith("```python\n")
    assert task.grade(task.prompt_set[0], gen(MBPP_ROWS[0]["code"] + "\n")).correct is True


def test_math500_and_aime_local_files(tmp_path):
    math = tmp_path / "math.jsonl"
    math.write_text(json.dumps({"problem": "Simplify 2/4.", "solution": "...", "answer": "\\frac{1}{2}",
                                "subject": "Algebra", "level": 1, "unique_id": "test/algebra/1.json"}) + "\n")
    task = load_task(f"math500:data={math}")
    p = task.prompt_set[0]
    assert p.id == "test/algebra/1.json" and "\\boxed{ANSWER}" in p.text
    assert [task.grade(p, gen(t)).correct for t in ("\\boxed{0.5}", "\\boxed{1/2}", "\\boxed{\\dfrac12}", "\\boxed{2}")] \
        == [True, True, True, False]
    aime = tmp_path / "aime.jsonl"
    aime.write_text(json.dumps({"id": 7, "problem": "Find N.", "answer": "033"}) + "\n")
    task = load_task(f"aime:data={aime}")
    assert task.prompt_set[0].reference == "33" and task.grade(task.prompt_set[0], gen("\\boxed{33}")).correct
    aime.write_text(json.dumps({"id": 7, "problem": "Find N.", "answer": "x+1"}) + "\n")
    with pytest.raises(CrevalError, match="not an integer answer"):
        load_task(f"aime:data={aime}").prompt_set


def test_noveltybench_from_the_shared_file():
    task = load_task(f"noveltybench:data={NOVELTY_FILE}")
    assert len(task.prompt_set) == 100 and task.family == "writing"
    first = json.loads(NOVELTY_FILE.read_text().splitlines()[0])
    assert task.prompt_set[0].text == first["prompt"] and task.prompt_set[0].id == str(first["id"])
    assert task.grade(task.prompt_set[0], gen("anything")).correct is None


def test_story_and_poetry_prompts_bundled_and_overridable(tmp_path):
    assert len(load_task("story_prompts").prompt_set) == 24 and len(load_task("poetry_prompts").prompt_set) == 20
    own = tmp_path / "prompts.jsonl"
    own.write_text(json.dumps({"prompt": "A dragon opens a bakery."}) + "\n")
    task = load_task(f"story_prompts:data={own}")
    assert task.prompt_set[0].text.endswith("A dragon opens a bakery.") and task.prompt_set[0].id == "story_prompts-0000"


@pytest.mark.parametrize("spec, dataset", [("gsm8k", "openai/gsm8k"), ("humaneval", "openai/openai_humaneval"),
                                           ("noveltybench", "yimingzhang/novelty-bench")])
def test_offline_hub_id_without_a_local_copy_says_how_to_point_at_a_file(spec, dataset):
    with pytest.raises(CrevalError) as err:
        load_task(spec).prompt_set
    assert dataset in str(err.value) and "--tasks NAME:data=path/to/file.jsonl" in str(err.value)


def test_missing_local_file_and_wrong_columns_are_clear(tmp_path):
    with pytest.raises(CrevalError, match="no such file"):
        load_task(f"gsm8k:data={tmp_path / 'nope.jsonl'}").prompt_set
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"q": "x"}) + "\n")
    with pytest.raises(CrevalError, match=r"missing column\(s\) \['question', 'answer'\]"):
        load_task(f"gsm8k:data={bad}").prompt_set


def test_task_parameters_are_validated():
    with pytest.raises(CrevalError, match="bad parameter 'size=3'"):
        load_task("gsm8k:size=3")
    with pytest.raises(CrevalError, match="limit='many' is not a valid int"):
        load_task("gsm8k:limit=many")
    with pytest.raises(CrevalError, match="subset must be full or sanitized"):
        load_task("mbpp:subset=tiny")


def test_writing_quality_scorer_slot(monkeypatch, tmp_path):
    from creval import registry

    (tmp_path / "my_scorer.py").write_text("class Length:\n    name = 'length'\n"
                                           "    def score(self, prompt, generation):\n        return len(generation.text)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry._extra["scorers"], "length", "my_scorer:Length")
    task = load_task("mini_writing:scorer=length")
    assert task.grade(task.prompt_set[0], gen("four")).score == 4.0
    assert task.task_hash != load_task("mini_writing").task_hash
    with pytest.raises(CrevalError, match="unknown scorer 'nope'"):
        load_task("mini_writing:scorer=nope").grade(task.prompt_set[0], gen("x"))


def test_a_local_directory_splits_by_datasets_own_inference(tmp_path):
    """`contest.jsonl` is not a test file; train and validation are never loaded as the test split."""
    row = lambda q, a: json.dumps({"question": q, "answer": f"#### {a}"}) + "\n"  # noqa: E731
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    (folder / "contest.jsonl").write_text(row("contest", 1))
    (folder / "train.jsonl").write_text(row("train", 2))
    (folder / "validation.jsonl").write_text(row("validation", 3))
    with pytest.raises(CrevalError, match=r"no 'test' split here .*train: train.jsonl"):
        load_task(f"gsm8k:data={folder}").prompt_set
    (folder / "test-00000-of-00002.jsonl").write_text(row("test a", 4))
    (folder / "test-00001-of-00002.jsonl").write_text(row("test b", 5))
    texts = [p.text for p in load_task(f"gsm8k:data={folder}").prompt_set]
    assert len(texts) == 2 and all("test" in t for t in texts) and not any("contest" in t for t in texts)
