import re

from creval.records import Generation
from creval.tasks.mini_code import MiniCode, extract_code
from creval.tasks.mini_writing import MiniWriting


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_every_reference_solution_passes_and_a_stub_fails():
    task = MiniCode()
    assert len(task.prompt_set) >= 15
    for p in task.prompt_set:
        solution = p.meta["solution"]
        grade = task.grade(p, gen(f"Here you go:\n```python\n{solution}```\nDone."))
        assert grade.correct is True, (p.id, grade.detail)
        stub = solution.split("\n")[0] + "\n    return None\n"
        assert task.grade(p, gen(stub)).correct is False, p.id


def test_code_extraction_prefers_the_last_fenced_block():
    text = "```python\nx = 1\n```\nthen\n```py\ny = 2\n```"
    assert extract_code(text) == "y = 2\n"
    assert extract_code("def f(): pass") == "def f(): pass"


def test_an_infinite_loop_is_a_wrong_answer_with_status_timeout():
    task = MiniCode()
    p = task.prompt_set[0]
    grade = task.grade(p, gen(f"{p.meta['solution'].splitlines()[0]}\n    while True: pass\n"))
    assert grade.correct is False and grade.status == "timeout"


def test_writing_has_no_correctness_grade_and_enough_prompts():
    task = MiniWriting()
    assert len(task.prompt_set) >= 20
    grade = task.grade(task.prompt_set[0], gen("Once upon a time"))
    assert grade.correct is None and grade.status == "ungraded"


def test_prompt_ids_and_hashes_are_stable():
    a, b = MiniCode(), MiniCode()
    assert a.task_hash == b.task_hash and re.fullmatch(r"[0-9a-f]{16}", a.prompts_hash)
    assert a.ref.startswith("mini_code@1:")
