"""Quality-aware ("effective") diversity: hand-computed values over real grades, the signature, and a
run of a real tiny checkpoint through the store."""
import math

import pytest

from creval import registry
from creval.metric import CellInfo
from creval.metrics import _embeddings
from creval.metrics.effective_diversity import EffectiveDiversity, quality
from creval.records import Generation, GenerationConfig, Grade, Prompt

P = Prompt("p", "q")
registry.register("metrics", "effective_diversity", "creval.metrics.effective_diversity:EffectiveDiversity")


def gens(texts):
    return [Generation(t, (), (), None, "exact", "stop") for t in texts]


def scored(metric, family, texts, grades):
    metric.begin_cell(CellInfo(GenerationConfig(n=len(texts)), "t@1:x", family, "exact"), [(P, gens(texts), grades)])
    return metric.score(P, gens(texts), grades)


def test_quality_is_the_score_else_correctness():
    assert quality(Grade(correct=None, score=0.7)) == 0.7
    assert quality(Grade(correct=True)) == 1.0 and quality(Grade(correct=False)) == 0.0
    assert math.isnan(quality(Grade(correct=None, status="grader-error")))


def test_nonsense_is_not_diverse_once_quality_counts():
    texts = ["the answer is 4", "so we get 4", "zebra quantum lamp", "purple seven river"]
    grades = [Grade(True, "4"), Grade(True, "4"), Grade(False, "x"), Grade(False, "y")]
    out = scored(EffectiveDiversity(), "math", texts, grades)
    # distinct-2 over the two correct samples: 6 bigrams, all distinct; one answer class among 4 samples
    assert out == {"quality-pass-rate": 0.5, "effective-distinct-2": 1.0, "effective-classes": 0.25}
    babble = scored(EffectiveDiversity(), "math", texts, [Grade(False, str(i)) for i in range(4)])
    assert babble["quality-pass-rate"] == 0.0 and babble["effective-classes"] == 0.0
    assert math.isnan(babble["effective-distinct-2"])  # no diversity among fewer than two
    repeated = scored(EffectiveDiversity(), "math", ["a b c", "a b c"], [Grade(True, "1"), Grade(True, "2")])
    assert repeated["effective-distinct-2"] == 0.5 and repeated["effective-classes"] == 1.0


def test_writing_uses_the_quality_score_and_its_bar():
    texts = ["a red fox", "a blue whale", "a red fox"]
    grades = [Grade(None, score=0.9), Grade(None, score=0.2), Grade(None, score=0.6)]
    out = scored(EffectiveDiversity(bar=0.5), "writing", texts, grades)
    assert out["quality-pass-rate"] == pytest.approx(2 / 3)
    assert out["effective-distinct-2"] == 0.5  # "a red", "red fox" twice
    if _embeddings.missing(_embeddings.DEFAULT) is None:
        assert out["effective-classes"] == pytest.approx(1 / 3)  # the two foxes are one class
    strict = scored(EffectiveDiversity(bar=0.95), "writing", texts, grades)
    assert strict["quality-pass-rate"] == 0.0
    unscored = scored(EffectiveDiversity(), "writing", texts, [Grade(None, status="ungraded")] * 3)
    assert all(math.isnan(v) for v in unscored.values())


def test_signature_names_the_quality_source_and_bar():
    sig = EffectiveDiversity(bar=0.8).signature("effective-distinct-2", CellInfo(GenerationConfig(), "t@1:x", "math", "exact"))
    assert sig.startswith("effective-distinct-2|q:grade|bar:0.8|tok:ws|case:lc|eq:answer:math-verify|scope:response|")


def test_run_stores_effective_diversity(tmp_path, tiny_ckpt):
    from creval.runner import run

    result = run(str(tiny_ckpt), ["mini_math"], GenerationConfig(n=2, max_new_tokens=6),
                 metrics=["effective_diversity:bar=0.5"], out=str(tmp_path / "r"))
    summaries = {s.statistic: s for s in result.cells[0].summaries}
    assert set(summaries) == {"quality-pass-rate", "effective-distinct-2", "effective-classes"}
    assert 0.0 <= summaries["quality-pass-rate"].mean <= 1.0


def test_hand_computed_repeats_all_pass_one_sample_and_bad_options():
    from creval.errors import CrevalError
    from creval.spec_strings import build

    # two correct samples, one wrong: 5 bigrams pooled (a b, b a, a b | a b, b c),
    # unique {a b, b a, b c} = 3 -> 3/5; one answer class among k = 3
    grades = [Grade(True, "4"), Grade(True, "4"), Grade(False, "9")]
    out = scored(EffectiveDiversity(bar=1.0), "math", ["a b a b", "a b c", "x y z"], grades)
    assert out == {"quality-pass-rate": pytest.approx(2 / 3), "effective-distinct-2": 0.6,
                   "effective-classes": pytest.approx(1 / 3)}
    every = scored(EffectiveDiversity(), "math", ["a b", "c d"], [Grade(True, "1"), Grade(True, "2")])
    assert every == {"quality-pass-rate": 1.0, "effective-distinct-2": 1.0, "effective-classes": 1.0}
    one = scored(EffectiveDiversity(), "math", ["a b"], [Grade(True, "1")])  # n = 1: no diversity among one
    assert one["quality-pass-rate"] == 1.0 and one["effective-classes"] == 1.0
    assert math.isnan(one["effective-distinct-2"])
    for bar in (0.0, 2.0):  # correctness is 1 or 0: such a bar passes every sample, or none
        with pytest.raises(CrevalError, match="give 0 < bar <= 1"):
            scored(EffectiveDiversity(bar=bar), "math", ["a"], [Grade(True, "1")])
    for spec, message in [("effective_diversity:similarity=1.5", "a cosine, at most 1"),
                          ("equivalence:threshold=2", "a cosine, at most 1"),
                          ("effective_diversity:bar=nan", "finite number"),
                          ("effective_diversity:n=x", "not a valid int"),
                          ("effective_diversity:bar", "bad parameter")]:
        with pytest.raises(CrevalError, match=message):
            build(spec, registry.load("metrics", spec.split(":")[0]), "metric")


def test_a_statistic_undefined_everywhere_says_why(tmp_path, capsys):
    import json

    from creval.cli.main import main
    from creval.runner import load_task

    gens = tmp_path / "w.jsonl"
    gens.write_text("".join(json.dumps({"prompt_id": p.id, "samples": ["a quiet rain", "the sea again"]}) + "\n"
                            for p in load_task("mini_writing").prompt_set))
    code = main(["run", "--model", "w", "--backend", "replay", "--generations", str(gens), "--tasks", "mini_writing",
                 "--n", "2", "--metric", "effective_diversity", "--metric", "distinct_n:n=4", "--out",
                 str(tmp_path / "r"), "--json"])
    assert code == 0
    summaries = {s["statistic"]: s for s in json.loads(capsys.readouterr().out)["cells"][0]["summaries"]}
    assert summaries["quality-pass-rate"]["note"].startswith("no sample has a quality: give the writing task a scorer")
    assert summaries["distinct-4"]["note"] == "undefined on every prompt"  # 3-word answers have no 4-grams
