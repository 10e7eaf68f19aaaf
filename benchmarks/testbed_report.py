"""The tables of docs/testbed.md from the rows ``testbed_seeds.py train`` wrote (one row per seed,
schedule and checkpoint, with per-prompt values). Scores: math and code pass@1 (8 samples per prompt),
creative distinct-1 and validity; entropy: the mean per-token entropy of the sampling distribution over
the answer tokens (nats). "30" columns: the toy tasks' own evaluation prompts (the first 30 of the 100)."""
from __future__ import annotations

import math
from collections import defaultdict

ORDER = ("structured-first", "creative-first", "structured-only", "creative-only", "joint", "creative-only-validity")
MID, END = 150, 300
# the seeds are the paired units (a seed's policies share its warm-up and RL randomness, so prompts within a seed
# are not independent replications of training); 6 is the fewest at which the exact sign-flip test can reach a
# one-sided p below 0.025 (1/64), 5 cannot (1/32)
MIN_SEEDS = 6


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def score(row: dict, fam: str, stat: str = "", first: int | None = None) -> float:
    """A family's mean over its prompts (the first ``first`` of them if given); entropy per token."""
    d = row[fam]
    stat = stat or ("distinct" if fam == "creative" else "score")
    n = first or len(d[stat])
    if stat == "entropy":
        return sum(h * t for h, t in zip(d["entropy"][:n], d["tokens"][:n])) / max(sum(d["tokens"][:n]), 1)
    return mean(d[stat][:n])


def _f(v: float, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def report(rows: list[dict]) -> None:
    from creval.errors import CrevalError
    from creval.leaderboards.analysis import collapse_step, fit_entropy_law
    from creval.stats import mean_interval, paired

    at: dict[tuple[str, int, int], dict] = {(r["schedule"], r["seed"], r["step"]): r for r in rows}
    runs: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        if r["step"] == END:
            runs[r["schedule"]].append(r["seed"])
    schedules = [s for s in ORDER if s in runs]
    for s in schedules:
        runs[s].sort()
    print("runs: " + "; ".join(f"{s} seeds {runs[s]}" for s in schedules) + "\n")

    def steps_of(s: str, seed: int) -> list[int]:
        return sorted(st for (sc, sd, st) in at if sc == s and sd == seed)

    def law(s: str, seed: int, fam: str, first: int | None, keep=lambda st: True) -> str:
        pts = [at[(s, seed, st)] for st in steps_of(s, seed) if keep(st)]
        try:
            return f"{fit_entropy_law([score(r, fam, 'entropy', first) for r in pts], [score(r, fam, '', first) for r in pts]).r2:.2f}"
        except CrevalError:
            return "refused"

    print("Per schedule and seed: the end of the run (step 300) and of the first stage (150); collapse: the first"
          " evaluated step whose entropy is below half of step 0's.\n")
    print("| schedule | seed | math pass@1 (100 / 30) | math H | code pass@1 (100 / 30) | code H | creative distinct-1 | "
          "validity | creative H | collapse math / code |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    # a first stage of 150 steps is the same computation as the control of that length (identical rows, checked)
    views = [("warm-up (step 0)", "structured-first", 0), ("structured-only 150 (= structured-first 150)", "structured-first", MID),
             ("creative-only 150 (= creative-first 150)", "creative-first", MID)]
    views += [(f"{s} 150", s, MID) for s in schedules if s not in ("structured-first", "creative-first")]
    views += [(s, s, END) for s in schedules]
    for label, s, step in views:
        for seed in runs[s]:
            r = at[(s, seed, step)]
            collapse = "-"
            if step == END:
                st = steps_of(s, seed)
                collapse = " / ".join(str(collapse_step(st, [score(at[(s, seed, x)], f, "entropy") for x in st], 0.5,
                                                        relative=True) or "none") for f in ("math", "code"))
            print(f"| {label} | {seed} | {_f(score(r, 'math'))} / {_f(score(r, 'math', '', 30))} | {_f(score(r, 'math', 'entropy'))} | "
                  f"{_f(score(r, 'code'))} / {_f(score(r, 'code', '', 30))} | {_f(score(r, 'code', 'entropy'))} | "
                  f"{_f(score(r, 'creative'))} | {_f(score(r, 'creative', 'validity'))} | {_f(score(r, 'creative', 'entropy'))} | {collapse} |")

    print("\nMean over seeds [95% t interval] at step 0, 150 and 300.\n")
    print("| schedule | step | seeds | math pass@1 | math H | code pass@1 | code H | creative distinct-1 | validity | creative H |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    stats = [("math", ""), ("math", "entropy"), ("code", ""), ("code", "entropy"), ("creative", ""),
             ("creative", "validity"), ("creative", "entropy")]
    for s in schedules:
        for step in (0, MID, END):
            cells = []
            for fam, stat in stats:
                iv = mean_interval([score(at[(s, seed, step)], fam, stat) for seed in runs[s]])
                cells.append(f"{iv.mean:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
            print(f"| {s} | {step} | {len(runs[s])} | " + " | ".join(cells) + " |")

    print("\nEntropy-law fit R² (R = -a exp(H) + b) per seed over each structured stage's checkpoints: every 25 steps"
          " (7 points) or every 50 (4), on the 100 evaluation prompts or the toy task's 30; pass@1 over the stage and"
          " the sampling error of one checkpoint's pass@1 (binomial, 8 samples on each of the same 100 prompts).\n")
    print("| seed | family | stage | 7 pts, 100 | 4 pts, 100 | 7 pts, 30 | 4 pts, 30 | pass@1 start -> end | s.e. |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s, lo, hi in (("structured-first", 0, MID), ("creative-first", MID, END), ("structured-only", 0, END)):
        for seed in runs.get(s, []):
            for fam in ("math", "code"):
                inside = lambda st, lo=lo, hi=hi: lo <= st <= hi  # noqa: E731
                every50 = lambda st, lo=lo, hi=hi: lo <= st <= hi and st % 50 == 0  # noqa: E731
                r0, r1 = at[(s, seed, lo)], at[(s, seed, hi)]
                per = r1[fam]["score"]
                se = math.sqrt(sum(v * (1 - v) / 8 for v in per)) / len(per)  # 8 samples per prompt, same prompts
                print(f"| {seed} | {fam} | {s} {lo}-{hi} | {law(s, seed, fam, None, inside)} | {law(s, seed, fam, None, every50)} | "
                      f"{law(s, seed, fam, 30, inside)} | {law(s, seed, fam, 30, every50)} | "
                      f"{_f(score(r0, fam))} -> {_f(score(r1, fam))} | {se:.3f} |")

    print("\nBackward transfer (end - end of the first stage, the first stage's families: structured = mean of math"
          " and code pass@1; creative = distinct-1), per seed.\n")
    print("| schedule | " + " | ".join(f"seed {s}" for s in runs["structured-first"]) + " | mean [95% interval] |")
    print("|---|" + "---|" * (len(runs["structured-first"]) + 1))
    for s, fams in (("structured-first", ("math", "code")), ("creative-first", ("creative",))):
        values = [mean([score(at[(s, seed, END)], f) - score(at[(s, seed, MID)], f) for f in fams]) for seed in runs[s]]
        iv = mean_interval(values)
        print(f"| {s} | " + " | ".join(f"{v:+.3f}" for v in values) + f" | {iv.mean:+.3f} [{iv.low:+.3f}, {iv.high:+.3f}] |")

    seeds = sorted(set(runs["structured-first"]) & set(runs["creative-first"]))
    print(f"\nThe order test: per seed, structured-first - creative-first, paired over the {len(seeds)} seeds"
          f" (creval.stats.paired with the seeds as units: t interval, exact sign-flip one-sided p-values).\n")
    print("| comparison | statistic | difference [95% interval] | p (higher) | p (lower) | seeds |")
    print("|---|---|---|---|---|---|")
    points = [("matched: each skill right after its own stage", fam, MID if fam != "creative" else END,
               END if fam != "creative" else MID) for fam in ("math", "code", "creative")]
    points += [("end (300 vs 300)", fam, END, END) for fam in ("math", "code", "creative")]
    few = f" (fewer than {MIN_SEEDS}: p >= 1/{2 ** len(seeds)}, not testable at 0.025)" if len(seeds) < MIN_SEEDS else ""
    for name, fam, sf, cf in points:
        for stat in ("", "entropy"):
            base = {str(seed): score(at[("creative-first", seed, cf)], fam, stat) for seed in seeds}
            cand = {str(seed): score(at[("structured-first", seed, sf)], fam, stat) for seed in seeds}
            p = paired(base, cand, min_prompts=2)  # the interval and p-values at any count; flagged below MIN_SEEDS
            label = stat or ("distinct-1" if fam == "creative" else "pass@1")
            steps = f" ({sf} vs {cf})" if name.startswith("matched") else ""
            print(f"| {name}{steps} | {fam} {label} | {p.difference:+.3f} [{_f(p.low)}, {_f(p.high)}] | "
                  f"{p.p_higher:.3f} | {p.p_lower:.3f} | {p.prompts}{' (' + p.reason + ')' if p.reason else ''}{few} |")
