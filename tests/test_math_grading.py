import pytest

from creval.records import Generation
from creval.tasks.answers import answers_match, extract_answer, last_boxed
from creval.tasks.mini_math import MiniMath


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


@pytest.mark.parametrize(
    "text, answer, rule",
    [
        ("so \\boxed{\\frac{1}{2}} done", "\\frac{1}{2}", "boxed"),
        ("\\boxed{1} then \\boxed{\\sqrt{x^{2}}}", "\\sqrt{x^{2}}", "boxed"),
        ("work...\n#### 1,234", "1234", "hash"),
        ("The answer is 72.", "72", "answer-is"),
        ("the answer is: $18.50", "18.50", "answer-is"),
        ("I had 3 apples and got 5 more", "5", "last-number"),
        ("Q: how many?\nA: 42.\n", "42", "a-colon"),
        ("no digits here", None, None),
    ],
)
def test_extraction_rules_in_order(text, answer, rule):
    assert extract_answer(text) == (answer, rule)


def test_unbalanced_boxed_is_not_an_answer():
    assert last_boxed("\\boxed{3") is None


@pytest.mark.parametrize("gold, answer, same", [("72", "72.0", True), ("0.5", "\\frac{1}{2}", True),
                                                ("14.5", "14.50", True), ("-3", "-3", True), ("5", "6", False)])
def test_math_verify_equivalence(gold, answer, same):
    assert answers_match(gold, answer) is same


def test_mini_math_accepts_every_reference_and_rejects_a_wrong_one():
    task = MiniMath()
    assert len(task.prompt_set) >= 20
    for p in task.prompt_set:
        assert task.grade(p, gen(f"Step by step... \\boxed{{{p.reference}}}")).correct is True, p.id
        wrong = str(float(p.reference) + 1)
        assert task.grade(p, gen(f"\\boxed{{{wrong}}}")).correct is False, p.id
    no_answer = task.grade(task.prompt_set[0], gen("I do not know."))
    assert (no_answer.correct, no_answer.status) == (False, "no-answer")
