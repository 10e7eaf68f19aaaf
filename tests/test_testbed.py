"""The testbed: toy rewards and graders, RL that moves reward and entropy the expected way,
determinism, and `creval demo --quick` end to end (train, sweep, leaderboard)."""
import json
import math
from pathlib import Path

import pytest

from creval.records import Generation, GenerationConfig
from creval.testbed.toy import (ToyCode, ToyCreative, ToyMath, code_reward, creative_rewards, evaluate_expression,
                                math_reward)
from creval.testbed.train import TrainConfig, build_policy, train, warmup


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_toy_rewards_by_hand():
    assert math_reward("add 3 4 =", " 7") == 1.0 and math_reward("add 3 4 =", "8") == 0.0
    assert evaluate_expression("2*x+1", 3) == 7 and evaluate_expression("__import__('os')", 1) is None
    assert evaluate_expression("x**99999", 2) is None  # powers are not in the language
    assert code_reward("fn 2>5 3>7 =", "2*x+1", (4, 9)) == 1.0 and code_reward("fn 2>5 3>7 =", "2*x+1", (4, 10)) == 0.0
    r = creative_rewards("word b =", ["bako", "bako", "bzzt", "k9"])
    assert r[3] == 0.0 and r[0] == r[1] == 0.5 and r[2] == 1.0  # duplicates share all trigrams; invalid gets 0


def test_toy_tasks_grade_reference_answers_and_run_code_in_the_sandbox():
    m = ToyMath()
    assert all(m.grade(p, gen(p.reference)).correct for p in m.prompt_set) and len(m.prompt_set) == 30
    c = ToyCode()
    right = [(p, gen(p.reference["solution"].split("return ")[1].strip())) for p in c.prompt_set]
    assert all(g.correct for g in c.grade_batch(right))
    assert not c.grade(c.prompt_set[0], gen("__import__('os').system('true') or 0")).correct
    w = ToyCreative()
    p = w.prompt_set[0]
    letter = p.text.split()[1]
    assert w.grade(p, gen(letter + "abo")).score == 1.0 and w.grade(p, gen("9x")).score == 0.0


def _entropy_on(model, tok, prompts):
    import torch

    total = []
    with torch.no_grad():
        for text in prompts:
            ids = torch.tensor([tok(f"{text} ")["input_ids"]])
            logp = torch.log_softmax(model(ids).logits[0, -1].float(), -1)
            total.append(float(-(logp.exp() * logp).sum()))
    return sum(total) / len(total)


def test_rl_on_structured_math_raises_reward_and_lowers_entropy(tmp_path):
    cfg = TrainConfig(steps=100, every=100, warmup_steps=300, seed=0)
    model, tok = build_policy(tmp_path / "tok", 0)
    warmup(model, tok, cfg)
    prompts = [p.text for p in ToyMath().prompt_set]
    before = _entropy_on(model, tok, prompts)
    saved = train([("math", ("math",), 1.0)], tmp_path / "run", cfg, warm=(model, tok))
    rewards = [row["add"] for row in cfg.log]
    assert sum(rewards[-20:]) / 20 > sum(rewards[:20]) / 20 + 0.03
    from transformers import AutoModelForCausalLM

    after = _entropy_on(AutoModelForCausalLM.from_pretrained(saved[-1][2]), tok, prompts)
    assert after < before
    assert [s for s, _, _ in saved] == [0, 100]


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
    assert board["schedules"] == ["joint", "structured-first", "creative-first"]
    steps = {(r["schedule"], r["step"]) for r in board["rows"]}
    assert len(steps) == 9  # 3 schedules x checkpoints 0, 5, 10
    assert (tmp_path / "demo" / "site" / "index.html").is_file()
    stages = {r["stage"] for r in board["rows"] if r["schedule"] == "structured-first"}
    assert stages == {"structured", "creative"}


def test_eval_prompts_are_what_the_policies_were_trained_on(tmp_path):
    """The harness must feed a trained policy the exact tokens training used before an answer."""
    from creval.backends.prompting import render
    from creval.testbed.toy import eval_items

    _, tok = build_policy(tmp_path / "tok", 0)
    for task, family in ((ToyMath(), "math"), (ToyCode(), "code"), (ToyCreative(), "creative")):
        prompt = task.prompt_set[0]
        text, special = render(tok, prompt)
        trained = tok(f"{eval_items(family, 30 if family != 'creative' else 10)[0][0]} ")["input_ids"]
        assert tok(text, add_special_tokens=special)["input_ids"] == trained, task.name


def test_the_policy_context_fits_the_mini_suite_and_leaves_training_unchanged(tmp_path):
    """1024 positions (creval run's mini suite with 256 new tokens fits); the first 64 and every other
    parameter exactly as a 64-position model initialised from the same seed."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from creval.runner import load_task

    model, tok = build_policy(tmp_path / "p", seed=3)
    assert model.config.n_positions == 1024
    torch.manual_seed(3)
    small = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=64, n_layer=2, n_head=2,
                                       bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                                       pad_token_id=tok.eos_token_id))
    for name, value in small.state_dict().items():
        wide = model.state_dict()[name]
        assert torch.equal(wide[:64] if name.endswith("wpe.weight") else wide, value), name
    longest = max(len(tok(p.text)["input_ids"]) for t in ("mini_math", "mini_code", "mini_writing")
                  for p in load_task(t).prompt_set)
    assert longest + 256 <= 1024
