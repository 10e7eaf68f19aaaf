"""The replay backend: creval's own JSONL and Parquet, verl rollout dumps and TRL completion tables."""
import json

import pytest

import creval
from creval.backends.replay import ReplayBackend
from creval.errors import CrevalError
from creval.frames import table_to_generations
from creval.records import GenerationConfig, Prompt
from creval.runner import load_task
from creval.store import Store


def test_replaying_stored_generations_reproduces_them_exactly(tiny_ckpt, tmp_path):
    config = GenerationConfig(n=3, max_new_tokens=10)
    original = creval.run(str(tiny_ckpt), ["mini_math"], config, out=str(tmp_path / "a")).cells[0]
    table, _ = Store(tmp_path / "a").read_generations(original.cell_key)
    stored = table_to_generations(table)
    dump = tmp_path / "gens.jsonl"
    dump.write_text("".join(json.dumps({"prompt_id": pid, "samples": [
        {"text": g.text, "token_ids": list(g.token_ids), "logprobs": list(g.chosen_logprobs),
         "token_entropy": list(g.token_entropy), "entropy_kind": g.entropy_kind, "finish_reason": g.finish_reason,
         "token_entropy_model": list(g.token_entropy_model), "model_entropy_kind": g.model_entropy_kind,
         "seed": g.seed} for g in gens]}) + "\n" for pid, gens in stored.items()))
    replayed = creval.run("my-policy", ["mini_math"], config, backend="replay",
                          backend_options={"generations": str(dump)}, out=str(tmp_path / "b")).cells[0]
    table_b, meta = Store(tmp_path / "b").read_generations(replayed.cell_key)
    assert table_to_generations(table_b) == stored
    assert meta["fingerprint"].startswith("replay-") and meta["backend"] == "replay"
    grades = {s.statistic: s.mean for s in replayed.summaries}
    assert grades == pytest.approx({s.statistic: s.mean for s in original.summaries}, nan_ok=True)
    # a creval generations.parquet replays as is
    parquet = tmp_path / "a" / "cells" / original.cell_key / "generations.parquet"
    again = ReplayBackend.load(ReplayBackend.resolve("x", {"generations": str(parquet)}), {"generations": str(parquet)})
    assert again.generate(load_task("mini_math").prompt_set, config) == [stored[p.id] for p in load_task("mini_math").prompt_set]


def test_verl_and_trl_rollouts_match_prompts_by_text(tmp_path):
    task = load_task("mini_writing")
    p0, p1 = task.prompt_set[:2]
    verl = tmp_path / "rollouts.jsonl"
    verl.write_text("".join(json.dumps({"input": f"<|user|>{p.text}\n<|assistant|>", "output": f"story {i}", "score": 1.0,
                                        "step": 10}) + "\n" for p in (p0, p1) for i in range(2)))
    backend = ReplayBackend.load(verl, {})
    out = backend.generate([p0, p1], GenerationConfig(n=2))
    assert [[g.text for g in gs] for gs in out] == [["story 0", "story 1"], ["story 0", "story 1"]]
    assert out[0][0].token_entropy is None and out[0][0].entropy_kind == "none"
    trl = tmp_path / "completions.csv"
    trl.write_text("step,prompt,completion,reward\n" + "".join(f'5,"{p0.text}",poem {i},0.5\n' for i in range(3)))
    assert [g.text for g in ReplayBackend.load(trl, {}).generate([p0], GenerationConfig(n=3))[0]] == ["poem 0", "poem 1", "poem 2"]


def test_replay_errors(tmp_path):
    with pytest.raises(CrevalError, match="--generations FILE"):
        ReplayBackend.resolve("x", {})
    with pytest.raises(CrevalError, match="not found"):
        ReplayBackend.resolve("x", {"generations": str(tmp_path / "none.jsonl")})
    short = tmp_path / "short.jsonl"
    short.write_text(json.dumps({"prompt_id": "a", "samples": ["one"]}) + "\n")
    with pytest.raises(CrevalError, match="prompt 'a' has 1 samples, --n asks for 2"):
        ReplayBackend.load(short, {}).generate([Prompt("a", "q")], GenerationConfig(n=2))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt_id": "a", "text": "x"}\n{oops\n')
    with pytest.raises(CrevalError, match=r"bad\.jsonl:2: not valid JSON"):
        ReplayBackend.load(bad, {})
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"question": "a"}\n')
    with pytest.raises(CrevalError, match="none of prompt_id"):
        ReplayBackend.load(odd, {})
