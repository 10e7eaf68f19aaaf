"""mean@k, maj@k and G-Pass@k: hand-computed values and brute force over all k-subsets."""
import itertools
import math

import pytest

from creval.metrics.g_pass_at_k import GPassAtK, g_pass_at_k, mg_pass_at_k
from creval.metrics.maj_at_k import MajAtK, majority_correct
from creval.metrics.mean_at_k import MeanAtK
from creval.records import Grade, Prompt

P = Prompt("p", "q")


def test_mean_at_k_uses_the_first_k():
    grades = [Grade(True), Grade(False), Grade(True), Grade(True)]
    assert MeanAtK(k=(1, 2, 4)).score(P, [], grades) == {"mean@1": 1.0, "mean@2": 0.5, "mean@4": 0.75}


def test_maj_at_k_votes_with_math_verify_and_breaks_ties_by_first_vote():
    def g(answer, ok):
        return Grade(ok, answer=answer)

    # 0.5 and \frac{1}{2} are one answer: it wins 2 to 1 and is correct
    assert majority_correct([g("0.5", True), g("3", False), g("\\frac{1}{2}", True)])
    # tie 1-1: the answer voted first wins
    assert not majority_correct([g("3", False), g("4", True)])
    assert majority_correct([g("4", True), g("3", False)])
    assert not majority_correct([Grade(False, answer=None)])  # no votes
    out = MajAtK(k=(1, 3)).score(P, [], [g("3", False), g("7", True), g("7", True)])
    assert out == {"maj@1": 0.0, "maj@3": 1.0}


def test_maj_at_k_samples_whose_grading_failed_do_not_vote():
    failed = Grade(None, answer="7", status="sandbox-error")
    # the failed sample would have led the class of 7 and given it no verdict
    assert MajAtK(k=(1, 2)).score(P, [], [failed, Grade(True, answer="7")]) == {"maj@1": 0.0, "maj@2": 1.0}
    # two failed votes for 3 do not outvote one graded 4
    assert majority_correct([Grade(None, answer="3"), Grade(None, answer="3"), Grade(True, answer="4")])


@pytest.mark.parametrize("n, c", [(4, 0), (4, 2), (6, 3), (8, 5), (8, 8)])
def test_g_pass_at_k_is_the_share_of_k_subsets_with_enough_correct(n, c):
    pool = [1] * c + [0] * (n - c)
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(pool, k))
        for tau in (0.25, 0.5, 0.75, 1.0):
            need = max(1, math.ceil(tau * k))
            brute = sum(sum(s) >= need for s in subsets) / len(subsets)
            assert g_pass_at_k(n, c, k, tau) == pytest.approx(brute, abs=1e-12), (n, c, k, tau)


def test_mg_pass_and_edges():
    n, c, k = 8, 5, 4
    expected = 2 / k * (g_pass_at_k(n, c, k, 0.75) + g_pass_at_k(n, c, k, 1.0))  # i = 3, 4
    assert mg_pass_at_k(n, c, k) == pytest.approx(expected)
    assert g_pass_at_k(5, 5, 5, 1.0) == 1.0 and g_pass_at_k(5, 0, 1, 0.25) == 0.0
    out = GPassAtK(k=(2,), tau=(0.5, 1.0)).score(P, [], [Grade(True), Grade(False), Grade(True), Grade(None)])
    assert set(out) == {"g-pass@2:0.5", "g-pass@2:1", "mg-pass@2"} and out["g-pass@2:1"] == pytest.approx(1 / 3)
