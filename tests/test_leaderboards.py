"""Leaderboards: the analysis against known values and simulation, the built site and its escaping,
and `creval compare` exit codes on a planted regression."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, write_reports

import creval
from creval.cli.main import main
from creval.errors import CrevalError
from creval.leaderboards.analysis import (
    Stage,
    area_under,
    backward_transfer,
    check_comparable,
    collapse_step,
    fit_entropy_law,
    pareto_front,
    stage_ends,
    structured_correctness,
)
from creval.records import GenerationConfig
from creval.runner import load_task


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


def test_entropy_law_fit_refuses_degenerate_and_ill_conditioned_trajectories():
    with pytest.raises(CrevalError, match="the reward is 0 at every checkpoint"):
        fit_entropy_law([1.0, 0.8, 0.5], [0.0, 0.0, 0.0])  # R^2 was reported as 1.0
    with pytest.raises(CrevalError, match=r"the reward is 0\.4 at every checkpoint"):
        fit_entropy_law([1.0, 0.8, 0.5], [0.4, 0.4, 0.4])  # R^2 was -10.3
    with pytest.raises(CrevalError, match="ill-conditioned"):
        fit_entropy_law([0.5, 0.5000001, 0.5000002], [0.1, 0.2, 0.3])  # a was -3e5


def test_backward_transfer_by_hand_for_any_stage_layout():
    value = {("math", 100): 0.6, ("math", 200): 0.5, ("writing", 100): 0.3, ("writing", 200): 0.8,
             ("code", 100): 0.2, ("code", 200): 0.4}
    at = lambda f, s: value[(f, s)]  # noqa: E731
    # stage 1 trains math (ends at step 100), stage 2 writing (ends at 200 = final)
    bwt = backward_transfer([Stage("s", ("math",), 100), Stage("c", ("writing",), 200)], at)
    assert bwt["value"] == pytest.approx(-0.1) and bwt["stage_ends"] == {"s": 100, "c": 200}
    # creative-first: writing, then math+code. Lopez-Paz & Ranzato: only writing is "before the end";
    # a last stage of two families used to add a zero term and halve the value
    value[("writing", 200)] = 0.2
    bwt = backward_transfer([Stage("c", ("writing",), 100), Stage("s", ("math", "code"), 200)], at)
    assert bwt["value"] == pytest.approx(-0.1) and [t["family"] for t in bwt["terms"]] == ["writing"]
    # three stages, the first with two families: the mean of three terms
    bwt = backward_transfer([Stage("a", ("math", "code"), 100), Stage("b", ("writing",), 150),
                             Stage("c", ("writing",), 200)],
                            lambda f, s: {("math", 100): 0.5, ("code", 100): 0.5, ("writing", 150): 0.5}.get((f, s), 0.2))
    assert bwt["value"] == pytest.approx(-0.3) and len(bwt["terms"]) == 3
    with pytest.raises(CrevalError, match="at least two stages"):
        backward_transfer([Stage("a", ("math",), 100)], at)


def test_stage_ends_use_the_last_checkpoint_inside_each_stage_and_warn_when_it_is_not_the_end():
    stages = [("structured", 76, ["math"]), ("creative", None, ["writing"])]
    ends, warnings = stage_ends(stages, [0, 50, 100, 150])
    assert [(e.name, e.end) for e in ends] == [("structured", 50), ("creative", 150)]
    assert warnings == ["stage 'structured' ends at step 75 but its last checkpoint is step 50"]
    ends, warnings = stage_ends(stages, [0, 50, 75, 100, 150])
    assert [e.end for e in ends] == [75, 150] and warnings == []


def test_area_collapse_and_pareto_by_hand():
    assert area_under([0, 100, 200], [1.0, 0.5, 0.5]) == pytest.approx((75 + 50) / 200)
    assert area_under([0, 100, 100, 200], [1.0, 0.4, 0.6, 0.5]) == pytest.approx((75 + 50) / 200)  # was NaN
    assert collapse_step([0, 100, 200], [2.0, 0.4, 0.1], 0.5) == 100 and collapse_step([0], [2.0], 0.5) is None
    # relative: half of the starting entropy; a sharp warm-up at 0.3 nats is not "collapsed" at step 0
    assert collapse_step([0, 100, 200], [0.3, 0.2, 0.1], 0.5) == 0
    assert collapse_step([0, 100, 200], [0.3, 0.2, 0.1], 0.5, relative=True) == 200
    assert pareto_front([(0.1, 0.9), (0.5, 0.5), (0.4, 0.4), (0.9, 0.1)]) == [0, 1, 3]
    # the front's x is structured correctness: math and code, not math alone whenever math exists
    assert structured_correctness({"math": 0.8, "code": 0.2, "writing": 0.9}) == pytest.approx(0.5)
    assert structured_correctness({"code": 0.2, "writing": 0.9}) == pytest.approx(0.2)
    rising = [(0.1, 0.1), (0.5, 0.5), (0.4, 0.6), (0.9, 0.9)]
    assert pareto_front(rising) == [3] and pareto_front(rising, (1, -1)) == [0, 1, 3]  # lower y is better


def test_mismatched_signatures_are_refused():
    rows = [{"task": "t", "statistic": "s", "signature": "s|n:4", "schedule": "a", "step": 0},
            {"task": "t", "statistic": "s", "signature": "s|n:8", "schedule": "b", "step": 0}]
    with pytest.raises(CrevalError, match="not comparable: s on t at a step 0 and b step 0: n: 4 vs 8"):
        check_comparable(rows)
    # pass@1 from n=4 and from n=8 estimate the same quantity without bias: comparable
    check_comparable([{**rows[0], "signature": "pass@1|n:4|est:n-free|T:1.0"},
                      {**rows[1], "signature": "pass@1|n:8|est:n-free|T:1.0"}])


def test_leaderboard_build_writes_tables_plots_and_site(swept, tmp_path, capsys):
    root, manifest = swept
    out = tmp_path / "site"
    assert main(["leaderboard", "build", "--results", str(root / "results"), "--manifest", str(manifest),
                 "--out", str(out), "--entropy-threshold", "1.0"]) == 0
    for name in ("index.html", "plotly.min.js", "site.js", "site.css", "values.js", "samples.js", "samples-0.js", "samples-1.js",
                 "leaderboard.json",
                 "leaderboard.csv", "leaderboard.md", "plot-entropy.png", "plot-correctness.png", "plot-diversity.png",
                 "plot-law.png", "plot-pareto.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    board = json.loads((out / "leaderboard.json").read_text())
    joint = board["analysis"]["joint"]["tasks"]
    assert joint["mini_math"]["entropy_final"] < joint["mini_math"]["entropy_min"] + 1e-9
    assert joint["mini_math"]["collapse_step"] in (100, 200)  # sharpening pushes entropy under 1.0 nat
    assert "entropy_law" in joint["mini_math"] and "creativity_retention" in joint["mini_writing"]
    assert "backward_transfer" in board["analysis"]["staged"]
    # the derived columns' intervals: in the analysis, in the landing table's entries and in leaderboard.md
    from creval.leaderboards.landing import landing

    bwt = board["analysis"]["staged"]["backward_transfer"]  # one term, on mini_math: t, or why there is none
    assert bwt["method"] in ("t", "no variation: no interval") and bwt["prompts"] > 1
    assert (bwt["ci_low"] is None) == (bwt["method"] != "t")
    ret = joint["mini_writing"]["creativity_retention_interval"]
    assert ret["method"] == "bootstrap" and ret["ci_low"] < ret["ci_high"] and ret["prompts"] > 1
    table = landing(board)
    entries = {r["schedule"]: r["entries"] for r in table["rows"]}
    cell = entries["joint"]["retention:mini_writing"]
    assert (cell["low"], cell["high"], cell["note"]) == (ret["ci_low"], ret["ci_high"], None)
    assert entries["staged"]["bwt"]["note"] == (None if bwt["method"] == "t" else bwt["method"])
    retention_md = f"{cell['value']:.3f} [{cell['low']:.2f}, {cell['high']:.2f}]"
    assert retention_md in (out / "leaderboard.md").read_text()
    intervals = {c["key"].split(":")[0]: c["interval"] for c in table["columns"]}
    assert intervals["collapse"].startswith("no interval (not testable") and "bootstrap" in intervals["retention"]
    assert {c["schedule"] for c in board["comparisons"]} == {"staged"} and len(board["pareto"]) == 6
    # one diversity statistic everywhere: distinct-2 is defined on these outputs, so the automatic choice keeps it
    assert board["diversity"] == "distinct-2" and board["diversity_choice"]["requested"] == "auto"
    md = (out / "leaderboard.md").read_text()
    assert md.startswith("| schedule | final step | mini\\_math pass@1 ↑ | mini\\_writing distinct-2 ↑ |")
    assert "| joint | 200 |" in md and "BWT ↑" in md and "mini\\_math law a / b / R²" in md
    assert "![Correctness vs creativity](plot-pareto.png)" in md
    assert board["probes"] == board["recommendations"] == [] and "## Probes" not in md  # no reports: no section
    html = (out / "index.html").read_text()
    assert "https://" not in html.split('<script type="application/json"')[0]  # nothing loaded from the network
    assert '<script src="plotly.min.js">' in html and '<script src="site.js">' in html
    assert '"extras":{"probes":0,"recommendations":0,"unreadable":0}' in html  # the page hides the Probes tab
    # --diversity: chosen by hand, used by retention and the Pareto front; an unknown statistic is bad input
    assert main(["leaderboard", "build", "--results", str(root / "results"), "--manifest", str(manifest),
                 "--out", str(tmp_path / "d1"), "--diversity", "distinct-1"]) == 0
    d1 = json.loads((tmp_path / "d1" / "leaderboard.json").read_text())
    assert d1["diversity"] == "distinct-1" and d1["diversity_choice"]["requested"] == "distinct-1"
    assert d1["analysis"]["joint"]["tasks"]["mini_writing"]["creativity_retention"] != \
        board["analysis"]["joint"]["tasks"]["mini_writing"]["creativity_retention"]
    assert main(["leaderboard", "build", "--results", str(root / "results"), "--manifest", str(manifest),
                 "--out", str(tmp_path / "bad"), "--diversity", "distinct-9"]) == 2
    capsys.readouterr()
    assert main(["leaderboard", "build", "--results", str(root / "results"), "--manifest", str(manifest),
                 "--out", str(out), "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["values"] == len(board["rows"]) and str(out / "leaderboard.json") in built["files"]
    assert built["schedules"] == board["schedules"] and built["incomplete"] == []


def test_probe_and_recommendation_reports_show_in_json_markdown_and_site(swept, stored_reports, tmp_path):
    import shutil

    from creval.leaderboards.figures import PALETTE

    root, manifest = swept
    results = tmp_path / "results"
    shutil.copytree(root / "results", results)  # the shared sweep stays as it was
    write_reports(results, stored_reports)
    (results / "probes" / "perturb-cut.json").write_text('{"probe": ')
    (results / "recommendations" / "other.json").write_text('{"recommended": ["a"], "orders": [{"objective": 1}]}')
    out = tmp_path / "site"
    assert main(["leaderboard", "build", "--results", str(results), "--manifest", str(manifest), "--out", str(out)]) == 0
    board = json.loads((out / "leaderboard.json").read_text())
    probe, rec = board["probes"][0], board["recommendations"][0]
    assert [m["model"] for m in probe["models"]] == ["joint", "staged"] and probe["comparisons"]
    assert rec["recommended"] == ["structured", "creative"] and len(rec["orders"]) == 2 and len(rec["evidence"]) == 4
    assert board["unreadable_reports"] == [str(results / "probes" / "perturb-cut.json"),
                                           str(results / "recommendations" / "other.json")]  # not the schema
    md = (out / "leaderboard.md").read_text()
    section = md[md.index("## Probes and recommendations"):]
    area = probe["models"][0]["curves"]["mini_math"]["agreement"]["area"]
    assert f"| joint | mini\\_math | agreement | {area['mean']:.3f} [{area['low']:.2f}, {area['high']:.2f}] |" in section
    assert "| staged − joint | mini\\_math | agreement | " in section
    assert "Recommended schedule order (pilot.yaml): **structured → creative**." in section
    assert "| structured → creative | " in section and "| creative → structured | " in section
    # the site: a count in the page's data, the tab's data in extras.js (loaded with the tab)
    html = (out / "index.html").read_text()
    data = json.loads(html.split('<script type="application/json" id="data">')[1].split("</script>")[0])
    assert data["extras"] == {"probes": 1, "recommendations": 1, "unreadable": 2}
    script = (out / "extras.js").read_text()
    assert script.startswith("window.CREVAL_EXTRAS = ") and "<" not in script
    x = json.loads(script[len("window.CREVAL_EXTRAS = "):].rstrip().rstrip(";"))
    fig = x["probes"][0]["figure"]
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["xaxis"]["title"]["text"].startswith("sigma")
    assert fig["layout"]["xaxis"]["ticktext"] == ["0.003", "0.03"]  # ticks at the grid, not plotly's minor decades
    assert fig["layout"]["yaxis"]["title"]["text"].startswith("change in agreement")
    lines = {t["name"]: t for t in fig["data"] if t.get("mode") == "lines+markers" and t["xaxis"] == "x"}
    assert lines["joint"]["line"]["color"] == x["colours"]["joint"] == data["colours"]["joint"] == PALETTE[0]
    assert lines["staged"]["x"] == [0.003, 0.03]
    change = [p["change"]["mean"] for p in probe["models"][1]["curves"]["mini_math"]["agreement"]["points"]]
    assert lines["staged"]["y"] == pytest.approx(change, abs=1e-5)
    assert any(t.get("fill") == "toself" for t in fig["data"])  # the interval band
    assert len(x["probes"][0]["areas"]["rows"]) == 4 and x["probes"][0]["comparisons"]["rows"]
    assert len(x["recommendations"][0]["orders"]["rows"]) == 2 and len(x["recommendations"][0]["evidence"]["rows"]) == 4
    assert x["unreadable"] == ["perturb-cut.json", "other.json"]


def test_untrusted_text_cannot_break_out_of_the_page(tmp_path):
    from importlib import resources

    from creval.leaderboards.site import _safe_json

    page = resources.files("creval.leaderboards") / "page"
    template, script = (page / "index.html").read_text(), (page / "site.js").read_text()
    payload = "</script><script>alert(1)</script></textarea><img src=x onerror=alert(2)>"
    data = {"samples": {"s": {"t": {"p": {"0": [[payload, None, None, 1.0]]}}}}}
    html = template.replace("__DATA__", _safe_json(data))
    assert payload not in html and "<img src=x" not in html and "alert(1)</script>" not in html
    assert html.count("</script>") == template.count("</script>")  # only the page's own script tags close
    embedded = html.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded) == data  # JSON.parse gives the text back exactly, to be shown with textContent
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "textContent" in script


def _board(div_values: dict[str, list[float]], names=("ref", "other")) -> dict:
    """A two-schedule board by hand: math pass@1 and entropy, writing diversity statistics at steps 0, 10."""
    rows = []
    for i, s in enumerate(names):
        for j, step in enumerate((0, 10)):
            def row(task, family, stat, mean, lo=math.nan, hi=math.nan, s=s, step=step):
                return {"schedule": s, "step": step, "stage": None, "task": task, "family": family, "statistic": stat,
                        "mean": mean, "ci_low": lo, "ci_high": hi, "n_prompts": 10, "signature": "x", "cell": "c"}
            rows.append(row("m", "math", "pass@1", 0.2 + 0.1 * j + 0.1 * i, 0.1, 0.6))
            rows.append(row("m", "math", "token_entropy", 1.0 - 0.5 * j * (i + 1)))
            rows += [row("w", "writing", stat, v[j]) for stat, v in div_values.items()]
    return {"manifest": "m.yaml", "schedules": list(names), "rows": rows, "pareto": [], "incomplete": [],
            "entropy_threshold": {"value": 0.5, "relative": True}}


def test_the_diversity_statistic_is_the_first_defined_one_and_used_everywhere():
    from creval.leaderboards.build import choose_diversity

    rows = _board({"distinct-2": [math.nan, math.nan], "distinct-1": [0.5, 0.4]})["rows"]
    choice = choose_diversity(rows, None)
    assert choice["statistic"] == "distinct-1" and "distinct-2 not defined" in choice["reason"]
    assert choose_diversity(rows, "distinct-2")["statistic"] == "distinct-2"  # asked for: kept, even if empty
    with pytest.raises(CrevalError, match=r"no such statistic.*distinct-1, distinct-2"):
        choose_diversity(rows, "distinct-7")


def test_empty_plots_say_why_and_names_reach_plotly_as_text():
    from creval.leaderboards.figures import PALETTE, figures, to_plotly

    board = {**_board({"distinct-2": [math.nan, math.nan]}, names=("ref", "<b>x</b>")), "diversity": "distinct-2",
             "diversity_choice": {"requested": "distinct-2"}, "comparisons": [],
             "analysis": {"ref": {"tasks": {}}, "<b>x</b>": {"tasks": {}}}}
    figs = {f["id"]: f for f in figures(board)}
    assert "distinct-2 is undefined" in figs["plot-diversity"]["empty"] and "--diversity" in figs["plot-diversity"]["empty"]
    assert "no checkpoint has both" in figs["plot-pareto"]["empty"]
    board["analysis"] = {s: {"tasks": {"m": {"entropy_statistic": "token_entropy"}}} for s in board["schedules"]}
    fig = to_plotly(board, next(f for f in figures(board) if f["id"] == "plot-entropy"))
    names = {t["name"] for t in fig["data"] if t.get("showlegend")}
    assert names == {"ref", "&lt;b&gt;x&lt;/b&gt;"}
    assert {t["line"]["color"] for t in fig["data"] if t.get("showlegend")} == set(PALETTE[:2])
    assert all(ax["title"]["text"] for k, ax in fig["layout"].items() if k.startswith(("xaxis", "yaxis")))


def test_landing_marks_the_best_and_what_the_test_does_not_separate():
    from creval.leaderboards.landing import landing

    board = {**_board({"distinct-1": [0.5, 0.4]}), "diversity": "distinct-1", "comparisons": [
        {"schedule": "other", "task": "m", "statistic": "pass@1", "separated": False, "p": 0.4, "difference": 0.1}],
        "analysis": {"ref": {"steps": [0, 10], "tasks": {"m": {"entropy_statistic": "token_entropy", "collapse_step": None,
                                                                "entropy_law": {"refused": "too few"}}}},
                     "other": {"steps": [0, 10], "tasks": {"m": {"entropy_statistic": "token_entropy", "collapse_step": 10,
                                                                  "entropy_law": {"a": 1.0, "b": 2.0, "r2": 0.9, "points": 2}}}}}}
    table = landing(board)
    keys = [c["key"] for c in table["columns"]]
    assert keys[:3] == ["final:m:pass@1", "final:w:distinct-1", "final:m:token_entropy"]
    ref, other = (r["entries"] for r in table["rows"])
    assert other["final:m:pass@1"]["best"] and other["final:m:pass@1"]["separated"] is False
    assert ref["final:m:pass@1"]["reference"] and (ref["final:m:pass@1"]["low"], ref["final:m:pass@1"]["high"]) == (0.1, 0.6)
    assert ref["collapse:m"]["never"] and ref["collapse:m"].get("best") and not other["collapse:m"].get("best")
    assert "best" not in ref["final:m:token_entropy"]  # entropy has no direction of better
    assert ref["law_a:m"]["note"] == "fit refused: too few" and other["law_r2:m"]["value"] == 0.9


def _replay_results(tmp_path: Path, name: str, correct, *, k: int = 4, limit: int | None = None,
                    metrics=("pass_at_k:k=1",)) -> Path:
    """A results directory of replayed mini_math answers: ``correct(i)`` of the ``k`` samples of prompt i right."""
    spec = f"gsm8k:data={SHARED / 'gsm8k' / 'test.jsonl'}:limit={limit}" if limit else "mini_math"
    task = load_task(spec)
    rows = []
    for i, p in enumerate(task.prompt_set):
        good = correct(i)
        rows.append({"prompt_id": p.id, "samples": [f"so \\boxed{{{p.reference if j < good else float(p.reference) + 7}}}"
                                                    for j in range(k)]})
    gens = tmp_path / f"{name}.jsonl"
    gens.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / name
    creval.run(name, [spec], GenerationConfig(n=k), backend="replay", backend_options={"generations": str(gens)},
               out=str(out), metrics=list(metrics))
    return out


def test_compare_exit_codes(tmp_path, capsys):
    base = _replay_results(tmp_path, "baseline", lambda i: 4 * ((i % 10) < 9))
    same = _replay_results(tmp_path, "same", lambda i: 4 * ((i % 10) < 9))
    worse = _replay_results(tmp_path, "worse", lambda i: 4 * ((i % 10) < 3))
    assert main(["compare", str(base), str(same), "--max-drop", "pass@1=0.02"]) == 0
    out = capsys.readouterr().out
    assert "No gate crossed." in out and "not testable: the per-prompt differences do not vary" in out
    summary = tmp_path / "summary.md"
    assert main(["compare", str(base), str(worse), "--max-drop", "pass@1=0.1", "--markdown", str(summary)]) == 1
    out = capsys.readouterr().out
    assert "**crossed**" in out and "1 gate(s) crossed" in summary.read_text() and "| 22 |" in out
    assert main(["compare", str(base), str(tmp_path / "nope")]) == 2
    for bad in ("pass@1", "nonsense=1", "pass@1=nan", "pass@1=-1"):
        assert main(["compare", str(base), str(worse), "--max-drop", bad]) == 2, bad


def test_compare_refuses_too_few_prompts_and_never_gates_what_it_cannot_test(tmp_path, capsys):
    # the audit's case: one prompt, 3/4 correct vs 2/4, printed "[-0.25,-0.25] crossed", exit 1
    one_a = _replay_results(tmp_path, "one_a", lambda i: 3, limit=1)
    one_b = _replay_results(tmp_path, "one_b", lambda i: 2, limit=1)
    assert main(["compare", str(one_a), str(one_b), "--max-drop", "pass@1=0.02"]) == 2
    assert "share 1 prompts, fewer than --min-prompts 10" in capsys.readouterr().err
    assert main(["compare", str(one_a), str(one_b), "--max-drop", "pass@1=0.02", "--min-prompts", "1"]) == 0
    assert "not testable: one paired prompt" in capsys.readouterr().out  # asked to go on: shown, never gated


def test_compare_pairs_prompts_and_says_how_many(tmp_path):
    from creval.leaderboards.compare import compare

    base = _replay_results(tmp_path, "b", lambda i: 4)
    cand = _replay_results(tmp_path, "c", lambda i: 4 if i >= 2 else 0)
    diffs = {d.statistic: d for d in compare(base, cand, {})}
    assert diffs["pass@1"].prompts == 22 and diffs["pass@1"].candidate == pytest.approx(20 / 22)


def test_cell_level_statistics_are_values_without_a_fake_interval(tmp_path, capsys):
    metrics = ("pass_at_k:k=1", "distinct_n:n=1")
    a = _replay_results(tmp_path, "ca", lambda i: 4, metrics=metrics)
    b = _replay_results(tmp_path, "cb", lambda i: 0, metrics=metrics)
    from creval.leaderboards.compare import compare

    cell = {d.statistic: d for d in compare(a, b, {"distinct-1-corpus": 0.0})}["distinct-1-corpus"]
    assert not cell.testable and cell.note == "one value per cell: nothing to resample" and not cell.crossed
    assert math.isnan(cell.ci_low)
    gated = {d.statistic: d for d in compare(a, b, {"distinct-1-corpus": 0.0}, gate_cell_level=True)}
    assert gated["distinct-1-corpus"].crossed == (gated["distinct-1-corpus"].worse_by > 0)


def test_lower_is_better_statistics_are_gated_on_a_rise(tmp_path):
    from creval.leaderboards.compare import Difference, _decide

    row = Difference("t", "self-bleu", "lower", 10.0, 30.0, 20.0, 15.0, 25.0, 50, p_worse=1e-6, gate=5.0)
    assert row.worse_by == 20.0 and _decide([row], correction=True, gate_cell_level=False, alpha=0.025)[0].crossed
    better = Difference("t", "self-bleu", "lower", 30.0, 10.0, -20.0, -25.0, -15.0, 50, p_worse=1.0, gate=5.0)
    assert not _decide([better], correction=True, gate_cell_level=False, alpha=0.025)[0].crossed


def test_rewards_csv_is_read(tmp_path):
    from creval.leaderboards.best import read_rewards

    csv = tmp_path / "rewards.csv"
    csv.write_text("Wall time,Step,Value\n" + "".join(f"0,{s},{0.1 * s / 100}\n" for s in range(0, 301, 10)))
    assert read_rewards(csv)[:2] == [(0, 0.0), (10, 0.01)]
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(CrevalError, match="no step column"):
        read_rewards(tmp_path / "bad.csv")


def test_best_command(swept, capsys):
    root, manifest = swept
    assert main(["best", "--results", str(root / "results"), "--manifest", str(manifest), "--metric", "distinct-2",
                 "--task", "mini_writing", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["schedule"] for e in report] == ["joint", "staged"]
    assert all(e["step"] in (0, 100, 200) and len(e["trajectory"]) == 3 and "scored best" in e["reason"]
               for e in report)
    assert main(["best", "--results", str(root / "results"), "--manifest", str(manifest), "--metric", "nope",
                 "--task", "mini_writing"]) == 2


def test_compare_accepts_unbiased_estimates_from_different_n_and_refuses_others(tmp_path, capsys):
    four = _replay_results(tmp_path, "n4", lambda i: 4 * ((i % 10) < 9), k=4, metrics=("pass_at_k:k=1", "distinct_n:n=1"))
    eight = _replay_results(tmp_path, "n8", lambda i: 8 * ((i % 10) < 9), k=8, metrics=("pass_at_k:k=1",))
    assert main(["compare", str(four), str(eight), "--max-drop", "pass@1=0.02"]) == 0  # pass@1 is n-free
    assert "| pass@1 |" in capsys.readouterr().out
    eight_d = _replay_results(tmp_path, "n8d", lambda i: 8, k=8, metrics=("distinct_n:n=1",))
    assert main(["compare", str(four), str(eight_d)]) == 2  # distinct-1 over 4 vs over 8 samples differs
    assert "not comparable: distinct-1 on mini_math: n: 4 vs 8" in capsys.readouterr().err


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


def test_cells_not_done_are_a_warning_on_stderr_and_listed_in_json(swept, tmp_path, capsys):
    import shutil

    root, manifest = swept
    results = tmp_path / "results"  # a copy: the module's store stays complete
    shutil.copytree(root / "results", results)
    text = manifest.read_text().replace(f"results: {root / 'results'}", f"results: {results}")
    extra = tmp_path / "sweep.yaml"  # joint gains a checkpoint that cannot load: a failed place
    extra.write_text(text.replace("    checkpoints:\n", f"    checkpoints:\n      - {{path: {tmp_path}/gone, step: 900}}\n", 1))
    assert main(["sweep", str(extra), "--json"]) == 1
    capsys.readouterr()
    assert main(["leaderboard", "build", "--results", str(results), "--manifest", str(extra),
                 "--out", str(tmp_path / "site"), "--json"]) == 0
    out, err = capsys.readouterr()
    built = json.loads(out)
    assert {(c["schedule"], c["step"], c["state"]) for c in built["incomplete"]} == {("joint", 900, "failed")}
    assert f"planned cells are not done (not in the leaderboard): run `creval sweep {extra}`" in err


def test_sample_viewer_numbers_code_behaviours_instead_of_showing_digests(tmp_path):
    """A code sample's answer is a digest of its behaviour on the tests: the viewer numbers the distinct
    behaviours among a prompt's samples instead ("behaviour 1", ...) and shows no digest."""
    from types import SimpleNamespace

    from creval.leaderboards.collect import read_cell
    from creval.leaderboards.site import samples
    from creval.store import Store

    rows = []
    for p in load_task("mini_code").prompt_set:
        solution, entry = p.reference["solution"], p.reference["entry_point"]
        renamed = solution.replace(f"def {entry}(", f"def _{entry}(") + f"\n{entry} = _{entry}\n"  # other code, same behaviour
        rows.append({"prompt_id": p.id, "samples": [f"```python\n{solution}```", f"```python\n{renamed}```",
                                                    f"```python\ndef {entry}(*a):\n    return None\n```"]})
    gens = tmp_path / "code.jsonl"
    gens.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cell = creval.run("code", ["mini_code"], GenerationConfig(n=3), backend="replay",
                      backend_options={"generations": str(gens)}, out=str(tmp_path / "r"), metrics=["pass_at_k"]).cells[0]
    store = Store(tmp_path / "r")
    shown = samples([(SimpleNamespace(key=cell.cell_key, schedule="s", step=0), read_cell(store, cell.cell_key))],
                    store.root)["s"]["mini_code"]
    for by_step in shown.values():
        right, same, wrong = by_step["0"]
        assert (right[1], same[1], wrong[1]) == (1, 1, 0) and right[2] is None and same[2] is None
        assert right[4] == same[4] == "behaviour 1" and not wrong[4].startswith("behaviour")
