from collections import Counter

import pytest
from math_grading_corpus import CASES

from creval.records import Generation, Prompt
from creval.tasks.aime import AIME
from creval.tasks.answers import answers_match, extract_answer, last_boxed, tidy
from creval.tasks.gsm8k import GSM8K
from creval.tasks.math500 import Math500
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
        # boxed: money keeps no backslash, lists keep their commas, brace-less boxes read their token
        ("\\boxed{\\$18.90}", "18.90", "boxed"),
        ("\\boxed{\\$1,000}", "1000", "boxed"),
        ("\\boxed{1,2,3}", "1,2,3", "boxed"),
        ("\\boxed{-2,1}", "-2,1", "boxed"),
        ("so \\boxed 5.", "5", "boxed"),
        ("\\boxed{\\text{5 cm}}", "5\\text{ cm}", "boxed"),
        ("#### 40%", "40%", "hash"),
        # answer-is: fractions whole, markup skipped, lists and equations kept, else the next word
        ("The answer is 3/4.", "3/4", "answer-is"),
        ("The answer is -3/4.", "-3/4", "answer-is"),
        ("The answer is **42**.", "42", "answer-is"),
        ("The answer is $\\frac{3}{4}$.", "\\frac{3}{4}", "answer-is"),
        ("The answer is 1, 2, 3.", "1, 2, 3", "answer-is"),
        ("The answer is x = 3.", "x = 3", "answer-is"),
        ("The answer is (B).", "(B)", "answer-is"),
        ("A: -3/4.", "-3/4", "a-colon"),
        # last-number: slash and mixed fractions, a minus only where it is a sign
        ("She ran 2 1/2 miles", "2\\frac{1}{2}", "last-number"),
        ("so half is 1/2", "1/2", "last-number"),
        ("Then 10-3", "3", "last-number"),
        ("it fell to -7", "-7", "last-number"),
        ("There were 2,500 people and 1,2,3", "3", "last-number"),
    ],
)
def test_extraction_rules_in_order(text, answer, rule):
    assert extract_answer(text) == (answer, rule)


def test_unbalanced_boxed_is_not_an_answer():
    assert last_boxed("\\boxed{3") is None


@pytest.mark.parametrize("raw, tidied", [
    ("**42**", "42"), ("$\\frac12$", "\\frac12"), ("\\(x\\)", "x"), ("\\$18.", "18"), ("1{,}000", "1000"),
    ("1,234,567.5", "1234567.5"), ("12,34", "12,34"), ("1,000, 2,000", "1000, 2000"), ("2 1/2", "2\\frac{1}{2}"),
    ("-2 1/2", "-2\\frac{1}{2}"), ("\\text{12}", "12"), ("\\mbox{7 m}", "7\\text{ m}")])
def test_tidy(raw, tidied):
    assert tidy(raw) == tidied


@pytest.mark.parametrize("task", [GSM8K(), Math500(), AIME()], ids=["gsm8k-style", "math500-style", "aime-style"])
def test_regression_corpus(task):
    wrong = []
    for category, response, gold, verdict in CASES:
        grade = task.grade(Prompt("p", "q", reference=gold), gen(response))
        if grade.correct is not verdict:
            wrong.append((category, response, gold, verdict, grade.answer, grade.detail))
    assert wrong == []


def test_regression_corpus_covers_the_classes_of_issue_13():
    counts = Counter(category for category, *_ in CASES)
    assert len(CASES) >= 150 and len({(r, g) for _, r, g, _ in CASES}) == len(CASES)
    for category in ("money", "thousands", "fraction", "decimal", "percent", "units", "degrees", "interval", "set",
                     "multi-box", "mid-text", "markdown", "negative", "aime", "equation", "near-miss"):
        assert counts[category] >= 2, category
    assert sum(1 for *_, verdict in CASES if verdict is False) >= 50


@pytest.mark.parametrize("gold, answer, same", [("72", "72.0", True), ("0.5", "\\frac{1}{2}", True),
                                                ("14.5", "14.50", True), ("-3", "-3", True), ("5", "6", False),
                                                # a percent sign on one side: math-verify forgives it for integers
                                                # only; creval for every number, never for another value
                                                ("25", "25\\%", True), ("12.5", "12.5\\%", True),
                                                ("12.5\\%", "12.5", True), ("12.5", "12.6\\%", False)])
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
