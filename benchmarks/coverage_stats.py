"""Coverage and error rates of creval's intervals and tests, by seeded simulation (the table in
docs/leaderboards.md): ``python benchmarks/coverage_stats.py [--sims 2000]``.

Scenarios: pass@1 from n=8 samples over prompts of Beta(1, 2) and Beta(0.3, 3) difficulty, a 0/1
statistic with success rate 0.1, and an unbounded skewed statistic (Gamma(2, 0.5), through the t
interval); paired: two runs on the same Beta(1, 2) prompts, the candidate 0.05 better per prompt
(coverage of the difference's interval), and two identical runs (one-sided false-positive rate of
the sign-flip test at 0.025).
"""
from __future__ import annotations

import argparse

import numpy as np

from creval.stats import mean_interval, paired


def _covers(rng, draw, truth, bounds, m, sims):
    hits = 0
    for _ in range(sims):
        iv = mean_interval(draw(rng, m), bounds=bounds)
        hits += bool(iv.low <= truth <= iv.high)
    return hits / sims


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sims", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    p1 = lambda a, b: lambda r, m: r.binomial(8, r.beta(a, b, m)) / 8  # noqa: E731
    rows = {"pass@1, Beta(1,2) prompts": (p1(1, 2), 1 / 3, (0, 1)),
            "pass@1, Beta(0.3,3) prompts": (p1(0.3, 3), 0.3 / 3.3, (0, 1)),
            "0/1 statistic, rate 0.1": (lambda r, m: r.binomial(1, 0.1, m).astype(float), 0.1, (0, 1)),
            "unbounded, Gamma(2, 0.5)": (lambda r, m: r.gamma(2, 0.5, m), 1.0, None)}
    ms = (5, 10, 30, 100)
    print("| 95% interval of the mean | " + " | ".join(f"{m} prompts" for m in ms) + " |")
    print("|---|" + "---|" * len(ms))
    for name, (draw, truth, bounds) in rows.items():
        print(f"| {name} | " + " | ".join(f"{_covers(rng, draw, truth, bounds, m, args.sims):.3f}" for m in ms) + " |")
    cover, false = [], []
    for m in ms:
        c = f = tested = 0
        for _ in range(args.sims):
            p = rng.beta(1, 2, m)
            a, b = rng.binomial(8, p) / 8, rng.binomial(8, np.clip(p + 0.05, 0, 1)) / 8
            r = paired(dict(enumerate(a)), dict(enumerate(b)), min_prompts=2)
            if r.testable:
                tested += 1
                c += bool(r.low <= float(np.mean(np.clip(p + 0.05, 0, 1) - p)) <= r.high)
            same = rng.binomial(8, p) / 8
            f += paired(dict(enumerate(a)), dict(enumerate(same)), min_prompts=2).p_lower < 0.025
        cover.append(c / max(tested, 1))
        false.append(f / args.sims)
    print("| paired difference: interval coverage | " + " | ".join(f"{c:.3f}" for c in cover) + " |")
    print("| paired, identical runs: one-sided error at 0.025 | " + " | ".join(f"{f:.3f}" for f in false) + " |")


if __name__ == "__main__":
    main()
