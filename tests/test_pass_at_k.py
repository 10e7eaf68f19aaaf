from fractions import Fraction
from math import comb

import pytest

from creval.errors import CrevalError
from creval.metrics.pass_at_k import PassAtK, default_ks, pass_at_k
from creval.records import GenerationConfig, Grade, Prompt


@pytest.mark.parametrize("n", [1, 2, 5, 10, 16, 50])
def test_matches_combinatorial_formula_on_a_grid(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            expected = 1 - comb(n - c, k) / comb(n, k)
            assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12), (n, c, k)


def test_stable_where_binomials_overflow_floats():
    n, c, k = 2000, 3, 400
    exact = 1 - Fraction(comb(n - c, k), comb(n, k))  # exact rational arithmetic as the reference
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)
    assert 0 < pass_at_k(n, c, k) < 1


def test_edges():
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 5, 1) == 1.0
    assert pass_at_k(5, 3, 3) == 1.0  # fewer wrong samples than k: some correct one is always drawn
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_default_ks_reports_one_powers_of_two_and_n():
    assert default_ks(8) == (1, 2, 4, 8)
    assert default_ks(12) == (1, 2, 4, 8, 12)
    assert default_ks(1) == (1,)


def test_k_greater_than_n_is_a_clear_error_not_a_silent_drop():
    with pytest.raises(CrevalError, match=r"pass_at_k: k=16 is impossible with n=8"):
        PassAtK(k=(1, 16)).prepare(GenerationConfig(n=8))


def test_every_requested_k_is_reported():
    metric = PassAtK(k=(1, 2, 4))
    grades = [Grade(True), Grade(False), Grade(False), Grade(True)]
    out = metric.score(Prompt("p", "q"), [], grades)
    assert out == pytest.approx({"pass@1": 0.5, "pass@2": 1 - comb(2, 2) / comb(4, 2), "pass@4": 1.0})


def test_ungraded_samples_shrink_n_and_too_few_give_nan():
    metric = PassAtK(k=(1, 4))
    grades = [Grade(True), Grade(None, status="error"), Grade(False), Grade(False)]
    out = metric.score(Prompt("p", "q"), [], grades)
    assert out["pass@1"] == pytest.approx(1 / 3)
    assert out["pass@4"] != out["pass@4"]  # NaN: 3 graded samples cannot give pass@4
