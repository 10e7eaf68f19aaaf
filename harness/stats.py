"""The statistics core: every interval, paired test and family-wise correction creval reports.

Scoring (a cell's summaries), ``compare`` (CI gates), ``best`` and the leaderboard all call this
module; none computes its own interval. The procedures, chosen for honest behaviour at the prompt
counts evaluation sets really have (10 to a few hundred), and deterministic so that a number printed
twice is the same number:

* **Mean over prompts** (``mean_interval``). A statistic bounded in [lo, hi] (pass@k, distinct-n ...)
  gets a Wilson score interval with a design effect: Wilson's interval is the one that stays honest for
  a 0/1 statistic at few prompts (where a bootstrap or t interval collapses to a point when every value
  is 0), and for values strictly inside the bounds the sample variance shrinks it through the effective
  sample size ``m / deff`` with ``deff = s^2 / (p(1-p))``, capped at 1 (the largest variance a bounded
  variable with mean p can have). Unbounded statistics (token entropy, Vendi ...) get Student's t
  interval. Fewer than two values, or (for unbounded statistics) no variation: no interval.
* **Paired difference** (``paired``): prompts present and finite on both sides are paired; the
  difference's interval is Student's t on the per-prompt differences; its p-values come from the
  sign-flip permutation test (exact under the null that the two runs are exchangeable, which identical
  models are), enumerated exactly up to 16 non-zero differences, by 10,000 seeded random sign vectors
  up to 40, and above that by the normal limit of the sign-flip sum unless one difference dominates
  (more than a tenth of the sum of squares: then by random sign vectors again). Fewer than ``min_prompts`` pairs, or differences without variation, are "not
  testable": such a row is never called significant.
* **Derived statistics** (``bootstrap_interval``, ``ratio_interval``): a function of several means
  over the same prompts (a ratio of means at two checkpoints, a mean of differences of means) gets a
  seeded percentile interval from the paired bootstrap over prompts: a prompt's values at every
  checkpoint are resampled together (rows of a prompts x values array), groups with disjoint prompts
  (tasks) independently; 2,000 resamples, fixed seed, so that the interval printed twice is the same.
* **Family-wise control** (``holm``): Holm's step-down adjustment over the gates of one decision.
* **Direction** (``statistic_info``): whether higher is better, lower is better, or neither, and the
  bounds of each statistic; metrics may override it for their own statistics (``Metric.info``).
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sp

LEVEL = 0.95
MIN_PROMPTS = 10
_EXACT_MAX = 16
_RANDOM_FLIPS = 10_000
_NORMAL_MIN = 40
RESAMPLES = 2000
_CHUNK = 250  # resamples drawn at once (bounds the memory of the gathered arrays)
_MIN_FINITE = 0.99  # the share of resamples whose statistic must be defined for an interval
CELL = ""  # the prompt id under which a statistic computed once per cell is stored
CELL_LEVEL = "one value per cell: nothing to resample"


@dataclass(frozen=True)
class StatInfo:
    """``direction``: +1 higher is better, -1 lower is better, 0 neither (e.g. token entropy: a
    collapse and a blow-up are both notable). ``bounds``: the range a per-prompt value can take, or None."""

    direction: int
    bounds: tuple[float, float] | None = None

    @property
    def better(self) -> str:
        return {1: "higher", -1: "lower", 0: "neither"}[self.direction]


# (pattern, direction, bounds): the first match wins; names are creval's statistic names
_TABLE: list[tuple[str, int, tuple[float, float] | None]] = [
    (r"(pass|mean|maj|g-pass|mg-pass)@\d+(:.*)?", 1, (0.0, 1.0)),
    (r"self-bleu", -1, (0.0, 100.0)),
    (r"(pos-)?compression-ratio", -1, None),
    (r"homogenization-.*", -1, (0.0, 1.0)),
    (r"self-repetition", -1, None),
    (r"ast-unparsable", -1, (0.0, 1.0)),
    (r"token_entropy.*", 0, None),
    (r"hidden-erank", 0, None),
    (r"(pos-|ast-)?distinct-\d+(-li|-corpus)?|ast-distinct-subtrees|ead-\d+", 1, (0.0, 1.0)),
    (r"embedding-diversity", 1, (0.0, 2.0)),
    (r"quality-pass-rate|effective-distinct-\d+|(judge-)?effective-classes", 1, (0.0, 1.0)),
]


def statistic_info(name: str) -> StatInfo:
    """Direction and bounds of a statistic by name; unknown names are "higher is better", unbounded."""
    for pattern, direction, bounds in _TABLE:
        if re.fullmatch(pattern, name):
            return StatInfo(direction, bounds)
    return StatInfo(1, None)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    method: str  # "wilson-deff", "t", or why there is none

    def as_tuple(self) -> tuple[float, float, float, int]:
        return self.mean, self.low, self.high, self.n


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    return x[np.isfinite(x)]


def mean_interval(values: Sequence[float] | np.ndarray, *, bounds: tuple[float, float] | None = None,
                  level: float = LEVEL) -> Interval:
    """Mean over the finite values (NaN marks prompts the statistic is undefined on) with its interval."""
    x = _finite(values)
    nan = float("nan")
    if x.size == 0:
        return Interval(nan, nan, nan, 0, "no values")
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean, nan, nan, 1, "one value: no interval")
    t = float(_sp.t.ppf(0.5 + level / 2, x.size - 1))
    if bounds is not None and bounds[1] > bounds[0]:
        lo, hi = bounds
        u = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        low, high = _wilson(float(u.mean()), float(u.var(ddof=1)), x.size, t)
        return Interval(mean, lo + low * (hi - lo), lo + high * (hi - lo), int(x.size), "wilson-deff")
    sd = float(x.std(ddof=1))
    if sd == 0:
        return Interval(mean, nan, nan, int(x.size), "no variation: no interval")
    half = t * sd / math.sqrt(x.size)
    return Interval(mean, mean - half, mean + half, int(x.size), "t")


def _wilson(p: float, var: float, m: int, z: float) -> tuple[float, float]:
    """Wilson score interval for a mean in [0, 1] at effective sample size m / deff."""
    binomial = p * (1 - p)
    # no observed variation says nothing about the variance: assume the largest the bounds allow
    deff = min(1.0, var / binomial) if binomial > 0 and var > 0 else 1.0
    n = m / deff
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(binomial / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_interval(statistic: Callable[[list[np.ndarray]], np.ndarray], groups: Sequence[np.ndarray], *,
                       resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Interval:
    """Seeded percentile interval of a statistic of per-prompt values by the paired bootstrap over prompts.

    ``groups``: arrays of shape (prompts, values), a row per prompt (NaN: undefined there); rows are
    resampled whole (a prompt keeps its values at every checkpoint: the pairing), each group on its own
    (groups are disjoint prompt sets, e.g. tasks). ``statistic`` takes the groups with a leading resample
    axis, shape (B, prompts, values), and returns B values; it must ignore NaN (``np.nanmean``).
    The mean is the statistic on the data; ``n`` the prompts over all groups. No interval with fewer than
    two prompts in a group, without variation over the resamples, or where the statistic is undefined
    on more than 1% of them (e.g. a ratio whose denominator resamples to 0)."""
    nan = float("nan")
    arrays = [np.asarray(g, dtype=np.float64) for g in groups]
    with warnings.catch_warnings():  # an all-NaN slice is NaN, which is what is wanted
        warnings.simplefilter("ignore", RuntimeWarning)
        point = float(statistic([a[None] for a in arrays])[0])
        n = sum(a.shape[0] for a in arrays)
        if not math.isfinite(point):
            return Interval(point, nan, nan, n, "no value")
        if min(a.shape[0] for a in arrays) < 2:
            return Interval(point, nan, nan, n, "fewer than two prompts: no interval")
        rng = np.random.default_rng(seed)
        reps = np.empty(resamples)
        for start in range(0, resamples, _CHUNK):
            b = min(_CHUNK, resamples - start)
            reps[start:start + b] = statistic([a[rng.integers(0, a.shape[0], size=(b, a.shape[0]))] for a in arrays])
    ok = reps[np.isfinite(reps)]
    if ok.size < _MIN_FINITE * resamples:
        return Interval(point, nan, nan, n, f"undefined on {resamples - ok.size} of {resamples} resamples: no interval")
    if np.ptp(ok) == 0:
        return Interval(point, nan, nan, n, "no variation: no interval")
    low, high = np.quantile(ok, [(1 - level) / 2, (1 + level) / 2])
    return Interval(point, float(low), float(high), n, "bootstrap")


def ratio_interval(numerator: Sequence[float] | np.ndarray, denominator: Sequence[float] | np.ndarray, *,
                   resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Interval:
    """mean(numerator) / mean(denominator), each over its finite values, paired by prompt (position), with
    the paired bootstrap percentile interval (``bootstrap_interval``)."""
    pairs = np.column_stack([np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)])

    def ratio(g: list[np.ndarray]) -> np.ndarray:
        means = np.nanmean(g[0], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(means[:, 1] != 0, means[:, 0] / means[:, 1], np.nan)

    return bootstrap_interval(ratio, [pairs], resamples=resamples, seed=seed, level=level)


@dataclass(frozen=True)
class Paired:
    """Candidate minus baseline over the prompts both have. ``p_lower``: one-sided p-value that the
    candidate is lower; ``p_higher``: that it is higher (both 1.0 when not testable)."""

    baseline: float
    candidate: float
    difference: float
    low: float
    high: float
    p_lower: float
    p_higher: float
    prompts: int
    only_baseline: int
    only_candidate: int
    testable: bool
    reason: str = ""

    def p_worse(self, direction: int) -> float:
        """One-sided p-value that the candidate is worse (lower where higher is better; for statistics
        without a direction, lower: a drop)."""
        return self.p_higher if direction < 0 else self.p_lower


def paired(baseline: Mapping[str, float], candidate: Mapping[str, float], *, min_prompts: int = MIN_PROMPTS,
           level: float = LEVEL, seed: int = 0) -> Paired:
    """Paired comparison of two per-prompt value maps (prompt id -> value). A statistic computed once
    per cell (stored under the empty prompt id) is a value, not a sample: its difference is reported,
    never tested."""
    nan = float("nan")
    if set(baseline) == {CELL} or set(candidate) == {CELL}:
        x, y = baseline.get(CELL, nan), candidate.get(CELL, nan)
        return Paired(x, y, y - x, nan, nan, 1.0, 1.0, 0, 0, 0, False, CELL_LEVEL)
    both = sorted(p for p in set(baseline) & set(candidate)
                  if math.isfinite(baseline[p]) and math.isfinite(candidate[p]))
    a = np.array([baseline[p] for p in both], dtype=np.float64)
    b = np.array([candidate[p] for p in both], dtype=np.float64)
    only_a = sum(1 for p, v in baseline.items() if math.isfinite(v) and p not in both)
    only_b = sum(1 for p, v in candidate.items() if math.isfinite(v) and p not in both)
    if not both:
        return Paired(nan, nan, nan, nan, nan, 1.0, 1.0, 0, only_a, only_b, False, "no prompt has a value on both sides")
    d = b - a
    diff = float(d.mean())

    def result(low: float, high: float, p_lower: float, p_higher: float, testable: bool, reason: str = "") -> Paired:
        return Paired(float(a.mean()), float(b.mean()), diff, low, high, p_lower, p_higher, len(both), only_a, only_b,
                      testable, reason)

    if len(both) < min_prompts:
        return result(nan, nan, 1.0, 1.0, testable=False, reason=f"{len(both)} paired prompts (fewer than {min_prompts})")
    sd = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    if sd == 0:
        return result(nan, nan, 1.0, 1.0, testable=False,
                      reason="the per-prompt differences do not vary" if len(d) > 1 else "one paired prompt")
    half = float(_sp.t.ppf(0.5 + level / 2, len(d) - 1)) * sd / math.sqrt(len(d))
    p_lower, p_higher = sign_flip_pvalues(d, seed=seed)
    return result(diff - half, diff + half, p_lower, p_higher, testable=True)


def sign_flip_pvalues(d: np.ndarray, *, seed: int = 0) -> tuple[float, float]:
    """One-sided p-values (mean below 0, mean above 0) of the sign-flip permutation test on ``d``."""
    nz = d[d != 0]
    if nz.size == 0:
        return 1.0, 1.0
    observed = nz.sum()
    tol = 1e-12 * float(np.abs(nz).sum())
    if nz.size <= _EXACT_MAX:
        codes = np.arange(2 ** nz.size, dtype=np.int64)[:, None] >> np.arange(nz.size) & 1
        sums = ((1 - 2 * codes) * nz).sum(axis=1)
        return float(np.mean(sums <= observed + tol)), float(np.mean(sums >= observed - tol))
    if nz.size > _NORMAL_MIN and float(np.max(nz * nz)) < 0.1 * float(nz @ nz):
        # many differences, none dominating: the sign-flip sum is normal to high accuracy (Lyapunov)
        z = float(observed) / math.sqrt(float(nz @ nz))
        return float(_sp.norm.cdf(z)), float(_sp.norm.sf(z))
    rng = np.random.default_rng(seed)
    lower = higher = 1  # the observed sign vector counts once (a valid Monte Carlo p-value)
    for start in range(0, _RANDOM_FLIPS, 1000):
        signs = rng.integers(0, 2, size=(min(1000, _RANDOM_FLIPS - start), nz.size)) * 2 - 1
        sums = signs @ nz
        lower += int(np.sum(sums <= observed + tol))
        higher += int(np.sum(sums >= observed - tol))
    return lower / (_RANDOM_FLIPS + 1), higher / (_RANDOM_FLIPS + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (compare each with the family's alpha)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [1.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
