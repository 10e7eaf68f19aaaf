"""Leaderboards: the analysis against known values and simulation, the built site and its escaping,
and `creval compare` exit codes on a planted regression."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import creval
from creval.cli.main import main
from creval.errors import CrevalError
from creval.leaderboards.analysis import (area_under, backward_transfer, check_comparable, collapse_step,
                                          fit_entropy_law, paired_bootstrap, pareto_front)
from creval.records import GenerationConfig
from creval.runner import load_task

from conftest import sharpened_sweep


def test_entropy_law_fit_recovers_a_and_b():
    rng = np.random.default_rng(0)
    a, b = 0.3, 0.9
    h = np.linspace(0.1, 1.5, 12)
    r = -a * np.exp(h) + b + rng.normal(0, 0.005, h.size)
    fit = fit_entropy_law(h, r)
    assert fit.a == pytest.approx(a, abs=0.02) and fit.b == pytest.approx(b, abs=0.03)
    assert fit.ceiling == pytest.approx(b - a, abs=0.04) and fit.r2 > 0.98
    with pytest.raises(CrevalError, match="at least 3 checkpoints"):
        fit_entropy_law([0.1, 0.2], [0.5, 0.4])


def test_backward_transfer_area_collapse_and_pareto_by_hand():
    # stage 1 trains math (ends at step 100), stage 2 writing (ends at 200 = final)
    value = {("math", 100): 0.6, ("math", 200): 0.5, ("writing", 200): 0.8}
    assert backward_transfer([("math", 100), ("writing", 200)], value, 200) == pytest.approx(-0.1)
    assert area_under([0, 100, 200], [1.0, 0.5, 0.5]) == pytest.approx((75 + 50) / 200)
    assert collapse_step([0, 100, 200], [2.0, 0.4, 0.1], 0.5) == 100 and collapse_step([0], [2.0], 0.5) is None
    assert pareto_front([(0.1, 0.9), (0.5, 0.5), (0.4, 0.4), (0.9, 0.1)]) == [0, 1, 3]


def test_paired_bootstrap_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    covered, sims = 0, 300
    for i in range(sims):
        base = rng.normal(0.5, 0.2, 60)
        cand = base + 0.05 + rng.normal(0, 0.1, 60)
        diff, low, high, n = paired_bootstrap(dict(enumerate(base)), dict(enumerate(cand)), n_boot=500, seed=i)
        covered += low <= 0.05 <= high
    assert 0.88 <= covered / sims <= 0.99


def test_mismatched_signatures_are_refused():
    rows = [{"task": "t", "statistic": "s", "signature": "s|n:4", "schedule": "a", "step": 0},
            {"task": "t", "statistic": "s", "signature": "s|n:8", "schedule": "b", "step": 0}]
    with pytest.raises(CrevalError, match="not comparable: s on t has signature s\\|n:4 at a step 0 but s\\|n:8 at b step 0"):
        check_comparable(rows)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    from creval.manifest import load_manifest
    from creval.sweep import sweep

    root = tmp_path_factory.mktemp("board")
    stages = {"staged": "[{name: structured, until: 150, families: [math]}, {name: creative, families: [writing]}]"}
    manifest = sharpened_sweep(root, {"joint": (1.0, 2.0, 4.0), "staged": (1.0, 3.0, 8.0)}, stages=stages)
    sweep(load_manifest(manifest))
    return root, manifest


def test_leaderboard_build_writes_tables_plots_and_site(swept, tmp_path):
    root, manifest = swept
    out = tmp_path / "site"
    assert main(["leaderboard", "build", "--results", str(root / "results"), "--manifest", str(manifest),
                 "--out", str(out), "--entropy-threshold", "1.0"]) == 0
    for name in ("index.html", "plotly.min.js", "leaderboard.json", "leaderboard.csv", "leaderboard.md",
                 "plot-token_entropy.png", "plot-pareto.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    board = json.loads((out / "leaderboard.json").read_text())
    joint = board["analysis"]["joint"]["tasks"]
    assert joint["mini_math"]["entropy_final"] < joint["mini_math"]["entropy_min"] + 1e-9
    assert joint["mini_math"]["collapse_step"] in (100, 200)  # sharpening pushes entropy under 1.0 nat
    assert "entropy_law" in joint["mini_math"] and "creativity_retention" in joint["mini_writing"]
    assert "backward_transfer" in board["analysis"]["staged"]
    assert {c["schedule"] for c in board["comparisons"]} == {"staged"} and len(board["pareto"]) == 6
    md = (out / "leaderboard.md").read_text()
    assert md.startswith("| schedule | step |") and "| joint | 200 |" in md
    html = (out / "index.html").read_text()
    assert "https://" not in html.split('<script type="application/json"')[0]  # nothing loaded from the network
    assert '<script src="plotly.min.js">' in html


def test_untrusted_text_cannot_break_out_of_the_page(tmp_path):
    from creval.leaderboards.site import PAGE, _safe_json

    payload = "</script><script>alert(1)</script></textarea><img src=x onerror=alert(2)>"
    data = {"samples": {"s": {"t": {"p": {"0": [{"text": payload, "correct": None, "entropy": 1.0}]}}}}}
    html = PAGE.replace("__DATA__", _safe_json(data))
    assert payload not in html and "<img src=x" not in html and "alert(1)</script>" not in html
    assert html.count("</script>") == PAGE.count("</script>")  # only the page's own script tags close
    embedded = html.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded) == data  # JSON.parse gives the text back exactly, to be shown with textContent
    assert "innerHTML" not in PAGE and "textContent" in PAGE


def _replay_results(tmp_path: Path, name: str, correct_share: float) -> Path:
    task = load_task("mini_math")
    rows = []
    for i, p in enumerate(task.prompt_set):
        good = (i % 10) < correct_share * 10
        answer = p.reference if good else str(float(p.reference) + 7)
        rows.append({"prompt_id": p.id, "samples": [f"so \\boxed{{{answer}}}"] * 4})
    gens = tmp_path / f"{name}.jsonl"
    gens.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / name
    creval.run(name, ["mini_math"], GenerationConfig(n=4), backend="replay", backend_options={"generations": str(gens)},
               out=str(out), metrics=["pass_at_k:k=1"])
    return out


def test_compare_exit_codes(tmp_path, capsys):
    base = _replay_results(tmp_path, "baseline", 0.9)
    same = _replay_results(tmp_path, "same", 0.9)
    worse = _replay_results(tmp_path, "worse", 0.3)
    assert main(["compare", str(base), str(same), "--max-drop", "pass@1=0.02"]) == 0
    assert "No gate crossed." in capsys.readouterr().out
    summary = tmp_path / "summary.md"
    assert main(["compare", str(base), str(worse), "--max-drop", "pass@1=0.1", "--markdown", str(summary)]) == 1
    assert "**crossed**" in capsys.readouterr().out and "1 gate(s) crossed" in summary.read_text()
    assert main(["compare", str(base), str(tmp_path / "nope")]) == 2
    assert main(["compare", str(base), str(worse), "--max-drop", "pass@1"]) == 2
    assert main(["compare", str(base), str(worse), "--max-drop", "nonsense=1"]) == 2


def test_best_checkpoint_ties_go_to_the_earlier_step_and_divergence_is_flagged(tmp_path):
    from creval.leaderboards.best import Point, best_checkpoint, divergences, read_rewards

    points = [Point(0, 0.40, 0.35, 0.45), Point(100, 0.60, 0.55, 0.66), Point(200, 0.62, 0.57, 0.67),
              Point(300, 0.50, 0.45, 0.55)]
    assert best_checkpoint(points).step == 100  # 0.60 is inside 200's interval [0.57, 0.67]: the earlier wins
    assert best_checkpoint([Point(0, 0.1, 0.0, 0.2), Point(1, 0.9, 0.85, 0.95)]).step == 1
    csv = tmp_path / "rewards.csv"
    csv.write_text("Wall time,Step,Value\n" + "".join(f"0,{s},{0.1 * s / 100}\n" for s in range(0, 301, 10)))
    rewards = read_rewards(csv)
    assert rewards[:2] == [(0, 0.0), (10, 0.01)]
    assert divergences(points, rewards, window=20) == [300]  # reward still rising, accuracy fell
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(CrevalError, match="no step column"):
        read_rewards(tmp_path / "bad.csv")


def test_best_command(swept, capsys):
    root, manifest = swept
    assert main(["best", "--results", str(root / "results"), "--manifest", str(manifest), "--metric", "distinct-2",
                 "--task", "mini_writing", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["schedule"] for e in report] == ["joint", "staged"]
    assert all(e["best_step"] in (0, 100, 200) and len(e["trajectory"]) == 3 for e in report)
    assert main(["best", "--results", str(root / "results"), "--manifest", str(manifest), "--metric", "nope",
                 "--task", "mini_writing"]) == 2


def test_a_leaderboard_is_rebuilt_from_the_store_and_manifest_alone(swept, tmp_path, monkeypatch):
    """The sweep index maps places to cells: no checkpoint is fingerprinted, no task data is loaded."""
    import creval.sweep
    from creval.leaderboards.build import build

    root, manifest = swept
    first = build(root / "results", manifest, tmp_path / "a")
    moved = tmp_path / "moved"
    moved.mkdir()
    for schedule in ("joint", "staged"):
        (root / schedule).rename(moved / schedule)
    monkeypatch.setattr(creval.sweep, "plan", lambda *a, **k: pytest.fail("plan() fingerprints checkpoints"))
    try:
        again = build(root / "results", manifest, tmp_path / "b")
        assert main(["best", "--results", str(root / "results"), "--manifest", str(manifest), "--metric", "distinct-2",
                     "--task", "mini_writing"]) == 0
    finally:
        for schedule in ("joint", "staged"):
            (moved / schedule).rename(root / schedule)
    assert (tmp_path / "a" / "leaderboard.json").read_text() == (tmp_path / "b" / "leaderboard.json").read_text()
    assert again["incomplete"] == [] and len(again["rows"]) == len(first["rows"])
