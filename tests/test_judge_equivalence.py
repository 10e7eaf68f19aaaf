"""Equivalence classes by an LLM judge through the openai backend, against a fake judge server (the
real vLLM server judges in tests/test_vllm_backend.py): classes, entropy, effective classes, the
verdict cache, and a run through the store."""
import json
import math

import pytest
from judge_server import serve

from creval import registry
from creval.errors import CrevalError
from creval.metric import CellInfo
from creval.metrics import judge_equivalence as je
from creval.records import Generation, GenerationConfig, Grade, Prompt

registry.register("metrics", "judge_equivalence", "creval.metrics.judge_equivalence:JudgeEquivalence")
registry.register("metrics", "effective_diversity", "creval.metrics.effective_diversity:EffectiveDiversity")
registry.register("scorers", "judge", "creval.metrics.judge_equivalence:JudgeQuality")
P = Prompt("p", "Name an animal.")


@pytest.fixture
def judge_url(monkeypatch, tmp_path):
    requests: list[dict] = []
    server = serve(requests)
    monkeypatch.setenv(je.URL_ENV, f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("CREVAL_CACHE_DIR", str(tmp_path / "cache"))
    je._judges.clear()
    yield requests
    server.shutdown()
    je._judges.clear()


def test_yes_is_read_leniently():
    assert je.is_yes("Yes.") and je.is_yes(" **yes**, they match") and je.is_yes("YES")
    assert not je.is_yes("No") and not je.is_yes("") and not je.is_yes("I think yes") and not je.is_yes("Yesterday")
    assert [je.verdict(r) for r in ("No, different", "Nope", "", "maybe", "x" * 10_000)] == [False, None, None, None, None]


def test_classes_entropy_effective_classes_and_the_cache(judge_url, tmp_path):
    texts = ["A cat.", "a cat", "a dog", "A DOG!"]
    gens = [Generation(t, (), (), None, "exact", "stop") for t in texts]
    grades = [Grade(None, score=s) for s in (0.9, 0.9, 0.1, 0.9)]
    metric = je.JudgeEquivalence(judge="judge")
    metric.prepare(GenerationConfig(n=4))
    metric.begin_cell(CellInfo(GenerationConfig(n=4), "t@1:x", "writing", "exact"), [(P, gens, grades)])
    assert len(judge_url) == 6  # every pair, asked once, greedily
    assert judge_url[0]["temperature"] == 0.0 and judge_url[0]["max_tokens"] == 4
    out = metric.score(P, gens, grades)
    assert out["judge-distinct-k"] == 2.0 and out["judge-semantic-entropy"] == pytest.approx(math.log(2))
    assert out["judge-effective-classes"] == 0.5  # cat and dog pass (sample 3), over 4 samples
    assert len(judge_url) == 6  # score read the verdicts back
    stored = [json.loads(line) for line in next((tmp_path / "cache" / "judge").glob("*/verdicts.jsonl")).read_text().splitlines()]
    assert len(stored) == 6 and sum(je.is_yes(r["reply"]) for r in stored) == 2
    assert "Response A:\nA cat." in stored[0]["prompt"] and stored[0]["reply"] == "Yes."
    je._judges.clear()  # a new process: the verdicts come from the file
    assert metric.score(P, gens, grades) == out and len(judge_url) == 6
    sig = metric.signature("judge-distinct-k", CellInfo(GenerationConfig(n=4), "t@1:x", "writing", "exact"))
    assert sig.startswith("judge-distinct-k|eq:judge:judge|tmpl:1|q:grade|bar:0.5|scope:response|n:4|")


def test_setup_errors_are_clear(monkeypatch):
    with pytest.raises(CrevalError, match="name the judge's model"):
        je.JudgeEquivalence().prepare(GenerationConfig())
    monkeypatch.delenv(je.URL_ENV, raising=False)
    with pytest.raises(CrevalError, match="CREVAL_JUDGE_BASE_URL"):
        je.JudgeEquivalence(judge="x").prepare(GenerationConfig())
    assert "CREVAL_JUDGE_BASE_URL" in je.JudgeEquivalence(judge="x").unavailable()  # listings skip it
    monkeypatch.setenv(je.URL_ENV, "ftp://judge")
    je._judges.clear()
    with pytest.raises(CrevalError, match=r"judge \$CREVAL_JUDGE_BASE_URL=ftp://judge, model 'x': .*http\(s\) URL"):
        je.judge_for("ftp://judge", "x")
    cell = CellInfo(GenerationConfig(n=1), "t@1:x", "math", "exact")
    with pytest.raises(CrevalError, match="give 0 < bar <= 1"):  # correctness is 1 or 0: no sample would pass
        je.JudgeEquivalence(judge="x", bar=2.0).begin_cell(cell, [])


def test_run_stores_judge_classes(judge_url, tmp_path, tiny_ckpt):
    from creval.runner import run

    result = run(str(tiny_ckpt), ["mini_math"], GenerationConfig(n=2, max_new_tokens=6),
                 metrics=["judge_equivalence:judge=judge"], out=str(tmp_path / "r"))
    stats = {s.statistic: s for s in result.cells[0].summaries}
    assert len(judge_url) == 22  # one pair per prompt
    assert 1.0 <= stats["judge-distinct-k"].mean <= 2.0


def test_the_judge_as_a_quality_scorer(judge_url, monkeypatch, tmp_path, tiny_ckpt):
    assert je.rating("Rating: 7/10") == 0.7 and je.rating("10") == 1.0 and math.isnan(je.rating("ten"))
    monkeypatch.delenv(je.MODEL_ENV, raising=False)
    with pytest.raises(CrevalError, match="CREVAL_JUDGE_MODEL"):
        je.JudgeQuality()
    monkeypatch.setenv(je.MODEL_ENV, "judge")
    scorer = je.JudgeQuality()
    assert scorer.score(P, Generation("a good cat", (), (), None, "exact", "stop")) == 0.8
    assert scorer.score(P, Generation("a cat", (), (), None, "exact", "stop")) == 0.3
    assert len(judge_url) == 2

    from creval.runner import run

    result = run(str(tiny_ckpt), ["mini_writing:scorer=judge"], GenerationConfig(n=2, max_new_tokens=6),
                 metrics=["effective_diversity", "judge_equivalence:judge=judge"], out=str(tmp_path / "r"))
    cell = result.cells[0]
    stats = {s.statistic: s.mean for s in cell.summaries}
    assert cell.grader == "scorer:judge:judge:tmpl1" and stats["quality-pass-rate"] == 0.0  # the tiny model's babble: 0.3
    assert stats["judge-effective-classes"] == 0.0 and stats["judge-distinct-k"] >= 1.0


@pytest.mark.parametrize("reply", ["", "Maybe", "Yesterday", "x" * 20_000])
def test_a_reply_neither_yes_nor_no_leaves_the_prompt_undecided(monkeypatch, tmp_path, reply):
    """Counting a malformed reply as "different" would make a judge that ignores the template look diverse."""
    requests: list[dict] = []
    server = serve(requests, reply=lambda prompt: reply)
    monkeypatch.setenv(je.URL_ENV, f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("CREVAL_CACHE_DIR", str(tmp_path / "cache"))
    je._judges.clear()
    try:
        gens = [Generation(t, (), (), None, "exact", "stop") for t in ("a cat", "a dog")]
        out = je.JudgeEquivalence(judge="judge").score(P, gens, [Grade(True, "x")] * 2)
        assert all(math.isnan(v) for v in out.values()) and len(requests) == 1
        je._judges.clear()  # the verdict is stored like any other: not asked again
        je.JudgeEquivalence(judge="judge").score(P, gens, [Grade(True, "x")] * 2)
        assert len(requests) == 1
    finally:
        server.shutdown()
        server.server_close()
        je._judges.clear()


def test_a_failing_judge_is_retried(monkeypatch, tmp_path):
    requests: list[dict] = []
    server = serve(requests, failures=2)  # HTTP 500 twice, then answers
    monkeypatch.setenv(je.URL_ENV, f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("CREVAL_CACHE_DIR", str(tmp_path / "cache"))
    je._judges.clear()
    gens = [Generation(t, (), (), None, "exact", "stop") for t in ("a cat", "A cat!")]
    try:
        out = je.JudgeEquivalence(judge="judge").score(P, gens, [Grade(True, "x")] * 2)
        assert out["judge-distinct-k"] == 1.0 and out["judge-semantic-entropy"] == 0.0 and len(requests) == 3
        stored = next((tmp_path / "cache" / "judge").glob("*/verdicts.jsonl")).read_text().splitlines()
        assert [json.loads(line)["reply"] for line in stored] == ["Yes."]  # the failures are not verdicts
    finally:
        server.shutdown()
        server.server_close()
        je._judges.clear()
