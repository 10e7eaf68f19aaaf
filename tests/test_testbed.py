"""The testbed: toy rewards and graders, RL that moves reward and entropy the expected way,
determinism, and `creval demo --quick` end to end (train, sweep, leaderboard)."""
import json

import pytest

from creval.errors import CrevalError
from creval.records import Generation
from creval.testbed.policy import build_policy, warm_policy
from creval.testbed.toy import (
    ToyCode,
    ToyCreative,
    ToyMath,
    code_reward,
    creative_rewards,
    evaluate_expression,
    math_reward,
)
from creval.testbed.train import TrainConfig, stage_spec, train


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_toy_rewards_by_hand():
    assert math_reward("add 3 4 =", " 7") == 1.0 and math_reward("add 3 4 =", "8") == 0.0
    assert evaluate_expression("2*x+1", 3) == 7 and evaluate_expression("__import__('os')", 1) is None
    assert evaluate_expression("x**99999", 2) is None  # powers are not in the language
    assert code_reward("fn 2>5 3>7 =", "2*x+1", (4, 9)) == 1.0 and code_reward("fn 2>5 3>7 =", "2*x+1", (4, 10)) == 0.0
    r = creative_rewards("word b-a =", ["bakoa", "bakoa", "bzzta", "k9", "bako"])
    assert r[3] == r[4] == 0.0 and r[0] == r[1] == 0.5 and r[2] == 1.0  # duplicates share all trigrams; invalid gets 0
    assert creative_rewards("word b-a =", ["bakoa", "bakoa", "bako"], novelty_bonus=False) == [1.0, 1.0, 0.0]


def test_toy_tasks_grade_reference_answers_and_run_code_in_the_sandbox():
    m = ToyMath()
    assert all(m.grade(p, gen(p.reference)).correct for p in m.prompt_set) and len(m.prompt_set) == 30
    c = ToyCode()
    right = [(p, gen(p.reference["solution"].split("return ")[1].strip())) for p in c.prompt_set]
    assert all(g.correct for g in c.grade_batch(right))
    assert not c.grade(c.prompt_set[0], gen("__import__('os').system('true') or 0")).correct
    w = ToyCreative()
    assert len({p.text for p in w.prompt_set}) == 50  # every first letter x last vowel once
    p = w.prompt_set[0]
    first, last = p.text.split()[1].split("-")
    assert w.grade(p, gen(first + "ab" + last)).score == 1.0 and w.grade(p, gen("9x")).score == 0.0
    assert w.grade(p, gen(first + "ab" + ("e" if last != "e" else "a"))).score == 0.0  # the wrong last letter


# A small testbed that reaches the regime in seconds (docs/testbed.md, "The collapse test"): a math-only
# policy (its corpus and tokenizer hold only math), a short warm-up, then math-only RL. The full testbed's
# own regime (1,500-step warm-up, ten seeds) is measured by benchmarks/testbed_seeds.py.
COLLAPSE = dict(warmup_steps=500, warmup_lr=3e-3, steps=200, every=25, prompts_per_step=16, lr=1e-3, seed=0)


def _evaluate(model, tok, family):
    """pass@1 and the mean per-token entropy of the sampling distribution over the answers (as the
    token_entropy metric measures it) on the family's evaluation prompts, 8 samples each."""
    import torch

    from creval.testbed.policy import pad, sample, token_logprobs
    from creval.testbed.toy import eval_items

    items = eval_items(family)
    drawn = sample(model.eval(), tok, [it[0] for it in items], 8, 8, torch.Generator().manual_seed(0))
    batch, right = [], []
    for it, samples in zip(items, drawn):
        prompt_ids = tok(f"{it[0]} ")["input_ids"]
        batch += [(prompt_ids + ids, len(prompt_ids)) for _, ids in samples]
        right += [math_reward(it[0], text) if family == "math" else code_reward(it[0], text, it[2]) for text, _ in samples]
    ids, mask, target = pad(tok, batch)
    with torch.no_grad():
        _, entropy = token_logprobs(model, ids, mask)
    t = target[:, 1:].float()
    return sum(right) / len(right), float((entropy * t).sum() / t.sum())


def test_structured_rl_collapses_entropy_while_accuracy_rises_along_the_law(tmp_path):
    """The regime the harness exists to measure, on a small math-only testbed: token entropy falls by
    half while pass@1 rises, and R = -a exp(H) + b fits the checkpoints. Seed 0 (deterministic)."""
    from transformers import AutoModelForCausalLM

    from creval.leaderboards.analysis import fit_entropy_law

    cfg = TrainConfig(**COLLAPSE)
    model, tok, _ = warm_policy(0, cfg.warmup_steps, cfg.warmup_lr, None, families=("math",))
    saved = train([("math", ("math",), 1.0)], tmp_path, cfg, warm=(model, tok))
    points = [_evaluate(AutoModelForCausalLM.from_pretrained(path), tok, "math") for _, _, path in saved]
    (r0, h0), (r1, h1) = points[0], points[-1]
    assert h1 <= 0.5 * h0 and r1 > r0, points
    fit = fit_entropy_law([h for _, h in points], [r for r, _ in points])
    assert fit.r2 >= 0.8 and fit.a > 0, (fit, points)


def test_warm_up_is_cached_per_seed_and_configuration(tmp_path):
    import torch

    model, _, cached = warm_policy(5, 3, 3e-3, tmp_path)
    again, _, hit = warm_policy(5, 3, 3e-3, tmp_path)
    assert (cached, hit) == (False, True)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert not warm_policy(5, 4, 3e-3, tmp_path)[2] and not warm_policy(6, 3, 3e-3, tmp_path)[2]


def test_checkpoints_at_every_stage_end_where_backward_transfer_reads_them(tmp_path):
    import torch

    cfg = TrainConfig(steps=6, every=4, warmup_steps=2, seed=0)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(2)
    try:
        saved = train("structured-first", tmp_path, cfg)
        # training runs on one thread, deterministically, and leaves the caller's torch settings as they were
        assert torch.get_num_threads() == 2 and torch.are_deterministic_algorithms_enabled() == deterministic
    finally:
        torch.set_num_threads(threads)
    assert [(s, st) for s, st, _ in saved] == [(0, "structured"), (3, "structured"), (4, "creative"), (6, "creative")]
    assert stage_spec("structured-first", 6)[0]["until"] - 1 == 3  # the leaderboard's stage end
    assert [row["step"] for row in cfg.log] == list(range(1, 7)) and all("entropy" in row for row in cfg.log)


def test_training_is_deterministic_for_a_seed(tmp_path):
    from creval.checkpoints import fingerprint

    cfg = dict(steps=4, every=4, warmup_steps=10, seed=3)
    runs = []
    for name in ("a", "b"):
        saved = train("joint", tmp_path / name, TrainConfig(**cfg))
        runs.append([fingerprint(p) for _, _, p in saved])
    assert runs[0] == runs[1]


def test_demo_quick_trains_sweeps_and_builds_the_site(tmp_path, capsys, monkeypatch):
    from creval.cli.main import main

    monkeypatch.chdir(tmp_path)  # a relative --out, as the README's command uses the default one
    assert main(["demo", "--quick", "--out", "demo"]) == 0
    out = capsys.readouterr().out
    assert "trajectories" in out and "structured-first" in out and "index.html" in out
    board = json.loads((tmp_path / "demo" / "site" / "leaderboard.json").read_text())
    assert board["schedules"] == ["structured-only", "structured-first", "creative-first"]
    steps = {(r["schedule"], r["step"]) for r in board["rows"]}
    assert len(steps) == 9  # 3 schedules x checkpoints 0, 10 (the stage end), 20
    assert (tmp_path / "demo" / "site" / "index.html").is_file()
    stages = {r["stage"] for r in board["rows"] if r["schedule"] == "structured-first"}
    assert stages == {"structured", "creative"}
    from creval.demo_findings import findings

    lines = findings(board)
    assert 5 <= len(lines) <= 8 and all(line in out.replace("\n", "") or line[:40] in out for line in lines)
    h0, h1 = (next(r["mean"] for r in board["rows"] if (r["schedule"], r["step"], r["task"], r["statistic"])
                   == ("structured-only", step, "toy_math", "token_entropy")) for step in (0, 20))
    assert f"math entropy {h0:.3f} → {h1:.3f}" in lines[0]  # computed from the board, not canned
    assert main(["demo", "--quick", "--out", "demo", "--json"]) == 0  # again: trained policies and cells are reused
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == lines and len(data["rows"]) == len(board["rows"]) and data["site"].endswith("index.html")


def test_eval_prompts_are_what_the_policies_were_trained_on(tmp_path):
    """The harness must feed a trained policy the exact tokens training used before an answer."""
    from creval.backends.prompting import render
    from creval.testbed.toy import eval_items

    _, tok = build_policy(tmp_path / "tok", 0)
    for task, family in ((ToyMath(), "math"), (ToyCode(), "code"), (ToyCreative(), "creative")):
        prompt = task.prompt_set[0]
        text, special = render(tok, prompt)
        trained = tok(f"{eval_items(family)[0][0]} ")["input_ids"]
        assert tok(text, add_special_tokens=special)["input_ids"] == trained, task.name


def test_the_policy_context_fits_the_mini_suite(tmp_path):
    """1024 positions: `creval run --model <testbed checkpoint>` on the mini suite with 256 new tokens fits."""
    from creval.runner import load_task

    model, tok = build_policy(tmp_path / "p", seed=3)
    assert model.config.n_positions == 1024
    longest = max(len(tok(p.text)["input_ids"]) for t in ("mini_math", "mini_code", "mini_writing")
                  for p in load_task(t).prompt_set)
    assert longest + 256 <= 1024


def test_the_demo_table_fits_80_columns_with_whole_schedule_names():
    import io

    from rich.console import Console

    from creval.cli.demo_view import COLUMNS, trajectory_table

    schedules = ["structured-only", "structured-first", "creative-first"]
    rows = [{"schedule": s, "step": step, "task": task, "statistic": stat, "mean": 0.123456}
            for s in schedules for step in (0, 300) for _, task, stat in COLUMNS]
    out = io.StringIO()
    Console(file=out, width=80).print(trajectory_table({"schedules": schedules, "rows": rows}))
    lines = out.getvalue().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert all(any(s in line for line in lines) for s in schedules) and "…" not in out.getvalue()


def test_toy_tasks_load_by_name_but_are_not_public_tasks():
    from creval import registry
    from creval.runner import load_tasks

    assert not {"toy_math", "toy_code", "toy_creative"} & set(registry.available("tasks"))  # `creval tasks`
    assert [t.name for t in load_tasks(["toy_math", "toy_code", "toy_creative"])] == ["toy_math", "toy_code",
                                                                                      "toy_creative"]
    with pytest.raises(CrevalError, match="unknown task 'toy_nope'") as err:
        registry.load("tasks", "toy_nope")
    assert "toy_math" not in str(err.value) and "mini_math" in str(err.value)


def test_the_testbed_manifest_is_yaml_dumped_and_survives_a_path_with_colon_space(tmp_path):
    from creval.manifest import load_manifest
    from creval.testbed.experiment import write_manifest

    folder = tmp_path / "run: 1" / "joint"  # "key: value" inside a hand-formatted YAML value breaks it
    folder.mkdir(parents=True)
    path = write_manifest(tmp_path / "sweep.yaml", [("joint", folder, stage_spec("structured-first", 10))], n=4,
                          max_new_tokens=8)
    manifest = load_manifest(path)
    (schedule,) = manifest.schedules
    assert schedule.name == "joint" and schedule.discover == folder.resolve()
    assert [name for name, _ in schedule.stages] == ["structured", "creative"]
    assert manifest.tasks == ["toy_math", "toy_code", "toy_creative"] and manifest.config.n == 4
