"""The statistics core, checked by hand, against scipy, and by seeded simulation of its error rates.

Every decision rule creval makes from scores (a CI gate, "separated from zero", the best checkpoint, a
divergence flag) is simulated here under a null where it must stay quiet and an alternative where it
must speak."""
import itertools
import math

import numpy as np
import pytest
from scipy import stats as sp

from creval.leaderboards.best import choose, divergences, split_prompts
from creval.leaderboards.compare import Difference, _decide
from creval.stats import holm, mean_interval, paired, sign_flip_pvalues, statistic_info


def _pass1(rng, p, n=8):
    """Per-prompt pass@1 estimates from n samples at per-prompt success rates p."""
    return rng.binomial(n, np.clip(p, 0, 1)) / n


def test_wilson_on_binary_values_equals_the_textbook_formula_at_the_t_quantile():
    x = [1.0] * 3 + [0.0] * 7
    iv = mean_interval(x, bounds=(0, 1))
    z, n, p = sp.t.ppf(0.975, 9), 10, 0.3
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (iv.low, iv.high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert iv.method == "wilson-deff" and iv.mean == pytest.approx(0.3)


def test_all_zero_values_still_get_an_interval_and_one_value_gets_none():
    iv = mean_interval([0.0] * 10, bounds=(0, 1))
    assert iv.low == 0 and 0.2 < iv.high < 0.4  # the bounds allow a true mean well above 0
    one = mean_interval([0.5], bounds=(0, 1))
    assert math.isnan(one.low) and one.n == 1
    flat = mean_interval([2.0] * 5)
    assert math.isnan(flat.low) and "no variation" in flat.method


def test_unbounded_values_get_students_t_interval():
    x = np.array([1.0, 2.0, 4.0, 3.5, 2.5])
    iv = mean_interval(x)
    lo, hi = sp.t.interval(0.95, 4, loc=x.mean(), scale=sp.sem(x))
    assert (iv.low, iv.high) == pytest.approx((lo, hi), abs=1e-12) and iv.method == "t"


@pytest.mark.parametrize("m", [5, 10, 30, 100])
def test_mean_interval_coverage_by_simulation(m):
    """Coverage of the 95% interval (documented in docs/leaderboards.md): pass@1 of n=8 samples over
    prompts of Beta(1, 2) difficulty, and a 0/1 statistic with success rate 0.1 (the audit's case)."""
    rng = np.random.default_rng(m)
    sims = 400
    pass1 = binary = 0
    for _ in range(sims):
        iv = mean_interval(_pass1(rng, rng.beta(1, 2, m)), bounds=(0, 1))
        pass1 += iv.low <= 1 / 3 <= iv.high
        iv = mean_interval(rng.binomial(1, 0.1, m).astype(float), bounds=(0, 1))
        binary += iv.low <= 0.1 <= iv.high
    if m >= 10:
        assert 0.92 <= pass1 / sims <= 0.98, pass1 / sims
        assert 0.92 <= binary / sims <= 0.995, binary / sims  # 0/1 data: Wilson's coverage oscillates with m
    else:
        assert pass1 / sims >= 0.88 and binary / sims >= 0.85  # the percentile bootstrap had 0.42 here


def test_sign_flip_pvalues_are_exact_by_enumeration():
    d = np.array([0.3, -0.1, 0.2, 0.0, 0.25, -0.05])
    nz = d[d != 0]
    sums = [sum(s * x for s, x in zip(signs, nz)) for signs in itertools.product((1, -1), repeat=len(nz))]
    lower, higher = sign_flip_pvalues(d)
    assert lower == pytest.approx(np.mean([s <= nz.sum() + 1e-12 for s in sums]))
    assert higher == pytest.approx(np.mean([s >= nz.sum() - 1e-12 for s in sums]))


def test_three_prompts_losing_one_sample_each_are_not_testable():
    """The audit's case: three prompts each lose one of 8 correct samples (differences -1/8, -1/8, -1/8)."""
    r = paired({"a": 1.0, "b": 1.0, "c": 1.0}, {"a": 0.875, "b": 0.875, "c": 0.875}, min_prompts=2)
    assert not r.testable and "do not vary" in r.reason and r.p_lower == 1.0
    assert paired({"a": 0.75}, {"a": 0.5}).reason == "1 paired prompts (fewer than 10)"
    # exact test at 3 prompts: the smallest possible one-sided p-value is 1/8, never significant
    assert sign_flip_pvalues(np.array([-0.1, -0.2, -0.3]))[0] == pytest.approx(1 / 8)


def test_pairing_counts_and_means_are_over_shared_prompts():
    base = {str(i): 1.0 for i in range(12)}
    cand = {**{str(i): 1.0 for i in range(10)}, "10": math.nan, "11": math.nan}
    r = paired(base, cand)
    assert (r.baseline, r.candidate, r.prompts, r.only_baseline, r.only_candidate) == (1.0, 1.0, 10, 2, 0)


def test_holm_against_hand_values():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([]) == []


@pytest.mark.parametrize("m", [10, 30, 100])
def test_paired_interval_coverage_and_null_error_by_simulation(m):
    rng = np.random.default_rng(100 + m)
    sims, covered, false = 300, 0, 0
    for _ in range(sims):
        p = rng.beta(1, 2, m)
        a, b = _pass1(rng, p), _pass1(rng, p + 0.05)
        truth = float(np.mean(np.clip(p + 0.05, 0, 1) - p))
        r = paired(dict(enumerate(a)), dict(enumerate(b)))
        covered += r.low <= truth <= r.high
        false += paired(dict(enumerate(a)), dict(enumerate(_pass1(rng, p)))).p_lower < 0.025
    assert 0.92 <= covered / sims <= 0.98, covered / sims
    assert false / sims <= 0.04, false / sims  # nominal 0.025


def _gate_rows(rng, tasks: int, m: int, shift: float) -> list[Difference]:
    rows = []
    for t in range(tasks):
        p = rng.beta(2, 2, m)
        r = paired(dict(enumerate(_pass1(rng, p))), dict(enumerate(_pass1(rng, p + shift))))
        rows.append(Difference(f"t{t}", "pass@1", "higher", r.baseline, r.candidate, r.difference, r.low, r.high,
                               r.prompts, p_worse=r.p_lower if r.testable else None, testable=r.testable,
                               gate=0.02))
    return rows


def test_compare_family_wise_false_positive_rate_over_ten_gates():
    """Identical models, 100 prompts, n=8, gate pass@1=0.02 on 10 tasks: the audit measured 0.297 nights
    in 1 failing on noise; Holm must hold it at or under 0.06."""
    rng = np.random.default_rng(7)
    sims = 150
    fired = sum(any(d.crossed for d in _decide(_gate_rows(rng, 10, 100, 0.0), correction=True, gate_cell_level=False,
                                               alpha=0.025)) for _ in range(sims))
    assert fired / sims <= 0.06, fired / sims


def test_compare_gates_catch_a_real_regression():
    rng = np.random.default_rng(8)
    sims = 60
    caught = sum(any(d.crossed for d in _decide(_gate_rows(rng, 10, 100, -0.15), correction=True,
                                                gate_cell_level=False, alpha=0.025)) for _ in range(sims))
    assert caught / sims >= 0.95


def test_direction_of_better():
    assert statistic_info("pass@4").better == "higher" and statistic_info("self-bleu").better == "lower"
    for name in ("compression-ratio", "homogenization-rougel", "self-repetition", "ast-unparsable",
                 "pos-compression-ratio"):
        assert statistic_info(name).direction == -1, name
    assert statistic_info("token_entropy").direction == 0 and statistic_info("distinct-2").bounds == (0.0, 1.0)


def test_split_is_deterministic_and_order_free():
    ids = [f"p{i}" for i in range(60)]
    sel, held = split_prompts(ids)
    assert len(sel) == len(held) == 30 and not set(sel) & set(held)
    assert split_prompts(list(reversed(ids))) == (sel, held) and split_prompts(ids, seed=1) != (sel, held)


def _trajectory(rng, m: int, means: list[float]) -> dict[int, dict[str, float]]:
    """Checkpoints at steps 0, 100, ... sharing prompt difficulty (so they are paired as in a real sweep)."""
    base = rng.beta(2, 3, m)
    base = base - base.mean()
    return {100 * i: dict(zip((f"p{j}" for j in range(m)), _pass1(rng, base + mu))) for i, mu in enumerate(means)}


def test_best_picks_the_truly_better_later_checkpoint():
    """The audit's scenario: 60 prompts, step 0 truly 0.40, nine later checkpoints at 0.46; the old rule
    kept step 0 in 27% of runs."""
    rng = np.random.default_rng(11)
    sims = 200
    later = sum(choose(_trajectory(rng, 60, [0.40] + [0.46] * 9), "pass@1").step > 0 for _ in range(sims))
    assert later / sims >= 0.8, later / sims


def test_best_reports_a_held_out_value_without_the_winners_curse():
    rng = np.random.default_rng(12)
    sims, held, naive = 200, [], []
    for _ in range(sims):
        traj = _trajectory(rng, 60, [0.5] * 10)
        c = choose(traj, "pass@1", tolerance=0.0)
        held.append(c.value - 0.5)
        naive.append(max(np.mean(list(v.values())) for v in traj.values()) - 0.5)
    assert abs(np.mean(held)) < 0.01 < np.mean(naive)  # the full-data maximum overstates by about 0.03


def test_best_prefers_an_earlier_checkpoint_only_when_shown_within_tolerance():
    ids = [f"p{i}" for i in range(40)]
    same = {p: 0.5 + 0.01 * (i % 3) for i, p in enumerate(ids)}
    traj = {0: same, 100: {p: v + 0.002 * (i % 2) for i, (p, v) in enumerate(same.items())}}
    chosen = choose(traj, "pass@1", tolerance=0.01)
    assert chosen.step == 0 and chosen.top_step == 100 and "within 0.01" in chosen.reason
    assert choose(traj, "pass@1", tolerance=0.0).step == 100
    lower = {0: {p: 0.9 for p in ids}, 100: {p: 0.2 + 0.01 * (i % 5) for i, p in enumerate(ids)}}
    assert choose(lower, "self-bleu").step == 100  # lower is better


def test_divergence_flags_are_rare_on_a_flat_metric_and_catch_a_real_drop():
    rng = np.random.default_rng(13)
    rewards = [(s, s / 1000) for s in range(0, 1001, 10)]  # always rising
    sims = 100
    flat = sum(bool(divergences(_trajectory(rng, 60, [0.5] * 10), "pass@1", rewards)) for _ in range(sims))
    assert flat / sims <= 0.06, flat / sims  # the old rule flagged 48.5% of checkpoints
    drop = divergences(_trajectory(rng, 60, [0.6, 0.6, 0.3, 0.3]), "pass@1", rewards)
    assert 200 in [f["step"] for f in drop] and 100 not in [f["step"] for f in drop]
