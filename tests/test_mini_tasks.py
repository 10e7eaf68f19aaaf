import re

from creval.records import Generation
from creval.tasks.code_base import extract_code
from creval.tasks.mini_code import MiniCode
from creval.tasks.mini_writing import MiniWriting


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_every_reference_solution_passes_and_a_stub_fails():
    task = MiniCode()
    assert len(task.prompt_set) >= 15
    right = [(p, gen(f"Here you go:\n```python\n{p.reference['solution']}```\nDone.")) for p in task.prompt_set]
    for (p, _), grade in zip(right, task.grade_batch(right)):
        assert (grade.correct, grade.status) == (True, "passed"), (p.id, grade.detail)
    stubs = [(p, gen(p.reference["solution"].split("\n")[0] + "\n    return None\n")) for p in task.prompt_set]
    for (p, _), grade in zip(stubs, task.grade_batch(stubs)):
        assert grade.correct is False and grade.status in ("failed", "suspicious"), p.id


def test_code_extraction_prefers_the_last_fenced_block():
    text = "```python\nx = 1\n```\nthen\n```py\ny = 2\n```"
    assert extract_code(text) == "y = 2\n"
    assert extract_code("def f(): pass") == "def f(): pass"
    assert extract_code("Sure:\n```python\ndef f():\n    return 1\n") == "def f():\n    return 1\n"  # unterminated


def test_an_infinite_loop_is_a_wrong_answer_with_status_timeout():
    task = MiniCode()
    p = task.prompt_set[0]
    grade = task.grade(p, gen(f"{p.reference['solution'].splitlines()[0]}\n    while True: pass\n"))
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


def test_always_equal_object_is_suspicious_and_fails_under_strict():
    cheat = "class Yes:\n    def __eq__(self, other):\n        return True\n\ndef count_vowels(s):\n    return Yes()\n"
    strict, lenient = MiniCode(), MiniCode(strict=False)
    p = strict.prompt_set[0]
    assert p.reference["entry_point"] == "count_vowels"
    graded = strict.grade(p, gen(cheat))
    assert (graded.correct, graded.status) == (False, "suspicious") and "__main__.Yes" in graded.detail
    assert (lenient.grade(p, gen(cheat)).correct, lenient.grade(p, gen(cheat)).status) == (True, "suspicious")
    assert strict.task_hash != lenient.task_hash  # strictness is part of the grader's identity
