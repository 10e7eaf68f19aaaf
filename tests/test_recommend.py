"""Schedule recommendation: the prediction worked out by hand on synthetic pilot values, and the command
on a pilot sweep of tiny real checkpoints."""
import json

import numpy as np
import pytest

from creval.cli.main import main
from creval.leaderboards.recommend import rank

PROMPTS = [f"p{i}" for i in range(12)]


def values(level, seed):
    noise = np.random.default_rng(seed).normal(0, 0.02, len(PROMPTS))
    return {p: level + float(e) for p, e in zip(PROMPTS, noise)}


def test_the_domain_others_make_forget_goes_last():
    # structured training lifts math 0.5 -> 0.9 and costs writing 0.3; creative lifts writing to 0.8, costs math 0.1
    undefined = dict.fromkeys(PROMPTS, float("nan"))  # e.g. distinct-2 of one-word answers
    start = {"m": values(0.5, 0), "w": values(0.5, 1), "x": undefined}
    pilots = {"structured": [(start, {"m": values(0.9, 2), "w": values(0.2, 3), "x": undefined})],
              "creative": [(start, {"m": values(0.4, 4), "w": values(0.8, 5), "x": undefined})]}
    report = rank({"structured": ("math",), "creative": ("writing",)}, {"m": "math", "w": "writing", "x": "writing"},
                  pilots)
    assert report["recommended"] == ["structured", "creative"]
    assert list(report["excluded"]) == ["x"] and "x" not in report["orders"][0]["tasks"]
    best, reverse = report["orders"]
    # structured then creative: math 0.9 - 0.1, writing 0.8; the reverse: math 0.9, writing 0.8 - 0.3
    assert best["tasks"]["m"]["mean"] == pytest.approx(0.8, abs=0.03)
    assert best["tasks"]["w"]["mean"] == pytest.approx(0.8, abs=0.03)
    assert reverse["tasks"]["w"]["mean"] == pytest.approx(0.5, abs=0.03)
    assert best["objective"] - reverse["objective"] == pytest.approx(0.1, abs=0.03)
    margin = reverse["recommended_minus_this"]
    assert margin["testable"] and margin["low"] > 0 and margin["p"] < 0.05  # math -0.1, writing +0.3 per prompt
    assert margin["separated"] and report["separated"] and report["not_separated_from"] == []
    assert report["pairs_of_orders"] == 1 and margin["p"] == margin["p_unadjusted"]  # two orders: two-sided p
    from creval.leaderboards.extras_page import verdict

    assert verdict(report) == "Separated from every other order (p < 0.05, two-sided, one pair of orders)."
    assert report["forgetting"]["creative"] == pytest.approx(0.3, abs=0.03)
    row = next(r for r in report["evidence"] if r["trained"] == "structured" and r["task"] == "w")
    assert row["change"] == pytest.approx(-0.3, abs=0.03) and row["high"] < 0 and not row["trains_task"]


def test_command_on_a_pilot_sweep_of_tiny_checkpoints(tmp_path, capsys):
    from conftest import sharpened_sweep

    manifest = sharpened_sweep(tmp_path, {"math-pilot": (1.0, 3.0), "writing-pilot": (1.0, 0.5)},
                               stages={"math-pilot": "[{name: structured, families: [math]}]",
                                       "writing-pilot": "[{name: creative, families: [writing]}]"})
    assert main(["recommend", "--manifest", str(manifest)]) == 2
    assert "run `creval sweep" in capsys.readouterr().err
    assert main(["sweep", str(manifest)]) == 0
    capsys.readouterr()
    out = tmp_path / "rec.json"
    assert main(["recommend", "--manifest", str(manifest), "--json", "--write", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["recommended"]) == ["creative", "structured"] and len(report["orders"]) == 2
    assert {(r["trained"], r["task"]) for r in report["evidence"]} == {
        (d, t) for d in ("structured", "creative") for t in ("mini_math", "mini_writing")}
    assert json.loads(out.read_text())["recommended"] == report["recommended"]
    assert main(["recommend", "--manifest", str(manifest)]) == 0
    printed = capsys.readouterr().out
    assert "recommended order:" in printed and ("Separated from every other order" in printed
                                                 or "Not separated from: " in printed)
    assert json.loads((tmp_path / "results" / "recommendations" / "sweep.json").read_text())["orders"]


def test_extras_reads_the_stored_reports_for_the_site(tmp_path):
    from creval.leaderboards.extras import read_extras

    (tmp_path / "probes").mkdir()
    (tmp_path / "recommendations").mkdir()
    (tmp_path / "probes" / "perturb-abc.json").write_text('{"probe": "perturb", "models": []}')
    (tmp_path / "recommendations" / "pilot.json").write_text('{"recommended": ["a", "b"]}')
    (tmp_path / "recommendations" / "cut.json").write_text('{"recommended": [')
    extras = read_extras(tmp_path)
    assert [p["probe"] for p in extras["probes"]] == ["perturb"]
    assert extras["recommendations"][0]["recommended"] == ["a", "b"]
    assert extras["unreadable"] == [str(tmp_path / "recommendations" / "cut.json")]
    assert read_extras(tmp_path / "none") == {"probes": [], "recommendations": [], "unreadable": []}


def _simulated(rng, transfer, prompts=30, noise=0.15):
    """``rank`` on pilots drawn from a known truth: one task per domain (domain name = family), per prompt
    a start level, and ``transfer[a][t]`` the true mean change of task t when domain a is trained alone."""
    ids = [f"p{i}" for i in range(prompts)]
    base = {t: rng.uniform(0.2, 0.8, prompts) for t in transfer}

    def draw(level):
        return dict(zip(ids, (level + rng.normal(0, noise, prompts)).tolist()))

    pilots = {a: [({t: draw(base[t]) for t in transfer}, {t: draw(base[t] + transfer[a][t]) for t in transfer})]
              for a in transfer}
    return rank({d: (d,) for d in transfer}, {t: t for t in transfer}, pilots)


def _rates(runs, transfer, truth=None, seed=0):
    rng = np.random.default_rng(seed)
    picked = claimed = wrong_claims = 0
    for _ in range(runs):
        report = _simulated(rng, transfer)
        right = truth is None or report["recommended"] == truth
        picked += right
        if any(o["recommended_minus_this"]["separated"] for o in report["orders"][1:]):
            claimed += 1
            wrong_claims += not right
    return picked / runs, claimed / runs, wrong_claims / runs


def test_recommendation_error_rates_by_simulation():
    # no cross-domain transfer: every order has the same true objective, so any "separated" margin is a
    # false claim. The margin is picked as the largest of m orders: a one-sided p of that pick made 9%
    # (two domains) and 38% (three) false claims; two-sided and Bonferroni over the pairs of orders, <= 5%.
    own = lambda domains: {a: {t: 0.3 if t == a else 0.0 for t in domains} for a in domains}  # noqa: E731
    _, false_claims, _ = _rates(300, own(("math", "writing")))
    assert false_claims <= 0.08
    _, false_claims, _ = _rates(100, own(("math", "code", "writing")))
    assert false_claims <= 0.05
    # writing's training costs math 0.15 per prompt: writing first is better by 0.075 of the objective
    transfer = own(("math", "writing"))
    transfer["writing"]["math"] = -0.15
    picked, claimed, wrong = _rates(150, transfer, truth=["writing", "math"], seed=1)
    assert picked >= 0.95 and claimed >= 0.6 and wrong <= 0.02


def test_ten_seed_validation_reads_pilots_from_the_staged_runs():
    """``benchmarks/recommend_validation.py seeds`` (docs/testbed.md): synthetic rows in the order
    experiment's shape where creative training costs math, so creative-first should win every seed."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from recommend_validation import validate_seeds

    rng = np.random.default_rng(0)

    def row(seed, schedule, step, math, code, creative):
        noisy = lambda level, k: np.clip(level + rng.normal(0, 0.05, k), 0, 1).tolist()  # noqa: E731
        return {"seed": seed, "schedule": schedule, "step": step, "math": {"score": noisy(math, 20)},
                "code": {"score": noisy(code, 20)}, "creative": {"distinct": noisy(creative, 12)}}

    rows = []
    for seed in range(6):
        start = row(seed, "structured-first", 0, 0.6, 0.5, 0.5)
        rows += [start, {**start, "schedule": "creative-first"},
                 row(seed, "structured-first", 150, 0.9, 0.8, 0.5), row(seed, "creative-first", 150, 0.4, 0.3, 0.8),
                 row(seed, "structured-first", 300, 0.7, 0.6, 0.8), row(seed, "creative-first", 300, 0.9, 0.8, 0.8)]
    report = validate_seeds(rows, [150])
    result = report["pilots"][150]
    assert report["seeds"] == list(range(6)) and result["wins"] == 6 and result["separated"] == 6
    assert {r["recommended"] for r in result["per_seed"]} == {"creative-first"}
    margin = result["recommended_minus_reverse"]
    assert margin["mean"] == pytest.approx(0.4 / 3, abs=0.03) and margin["p_recommended_better"] == 1 / 64
