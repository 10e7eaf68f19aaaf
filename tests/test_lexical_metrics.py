"""Lexical metrics against their reference implementations (sacrebleu, nltk, the diversity package)
and hand-computed values, on real text (GSM8K solutions, NoveltyBench prompts)."""
import json
import math

import pytest
from conftest import SHARED
from reference_diversity import load

from creval.errors import CrevalError
from creval.metrics.compression_ratio import CompressionRatio, compression_ratio
from creval.metrics.distinct_n import DistinctN
from creval.metrics.ead import EAD, ead
from creval.metrics.homogenization import Homogenization, homogenization, unicode_tokens
from creval.metrics.ngram_diversity import ngram_diversity
from creval.metrics.self_bleu import SelfBLEU
from creval.metrics.self_repetition import self_repetition
from creval.records import Generation, Grade, Prompt

P = Prompt("p", "q")


def gens(texts):
    return [Generation(t, (), (), None, "exact", "stop") for t in texts]


def groups(size=8, count=12):
    """Real text in groups, as if the k samples of a prompt: GSM8K solutions and NoveltyBench prompts."""
    gsm = [json.loads(line)["answer"] for line in (SHARED / "gsm8k" / "test.jsonl").read_text().splitlines()[: size * count]]
    nov = [json.loads(line)["prompt"] for line in (SHARED / "noveltybench" / "curated.jsonl").read_text().splitlines()]
    pool = gsm + nov
    return [pool[i : i + size] for i in range(0, len(pool) - size + 1, size)]


def test_distinct_n_pooled_and_li_variants_by_hand():
    out = DistinctN(n=(1, 2)).score(P, gens(["the cat sat", "The cat ran"]), [])
    # words: the cat sat the cat ran -> 4 unique unigrams of 6; bigrams: 3 unique of 4; Li: / 6 words
    assert out == {"distinct-1": 4 / 6, "distinct-1-li": 4 / 6, "distinct-2": 3 / 4, "distinct-2-li": 3 / 6}


def test_ead_by_hand():
    # unigrams of "a b" + "a c": 3 unique of 4; V = 10: expected 10 * (1 - 0.9 ** 4) = 3.439
    assert ead(3, 4, 10) == pytest.approx(3 / 3.439)
    out = EAD(n=(1,), vocab=10).score(P, gens(["a b", "a c"]), [])
    assert out["ead-1"] == pytest.approx(3 / 3.439)
    assert math.isnan(ead(0, 0, 10))


def test_self_bleu_matches_sacrebleu_sentence_bleu():
    import sacrebleu

    metric = SelfBLEU(impl="sacrebleu")
    for texts in groups():
        expected = sum(sacrebleu.sentence_bleu(t, texts[:i] + texts[i + 1:]).score for i, t in enumerate(texts)) / len(texts)
        assert metric.score(P, gens(texts), [])["self-bleu"] == pytest.approx(expected, abs=1e-9)


def test_self_bleu_matches_nltk_with_texygen_settings():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    metric = SelfBLEU(impl="nltk", max_n=3)
    smooth = SmoothingFunction().method1
    for texts in groups() + [["a b", "c d", "a b c"], ["x", "x"], ["", "y z"]]:
        toks = [t.split() for t in texts]
        expected = sum(sentence_bleu(toks[:i] + toks[i + 1:], h, weights=(1 / 3,) * 3, smoothing_function=smooth)
                       for i, h in enumerate(toks)) / len(toks)
        assert metric.score(P, gens(texts), [])["self-bleu"] == pytest.approx(expected, abs=1e-12), texts


def test_diversity_package_functions_agree(monkeypatch):
    # the package's gzip header carries the wall clock, which changes its value; creval pins it at 0
    monkeypatch.setattr("time.time", lambda: 0.0)
    ref_ngram, ref_comp = load("ngram_diversity"), load("compression")
    ref_hom, ref_rep = load("homogenization"), load("self_repetition")
    for texts in groups():
        assert round(ngram_diversity(texts, 4), 3) == ref_ngram.ngram_diversity_score(texts, 4)
        assert round(compression_ratio(texts), 3) == ref_comp.compression_ratio(texts, "gzip")
        assert round(homogenization(texts), 3) == ref_hom.homogenization_score(texts, "rougel", verbose=False)
        assert self_repetition(texts, 4) == pytest.approx(ref_rep.self_repetition_score(texts, 4, verbose=False), abs=1e-12)


def test_homogenization_differs_from_the_package_on_disjoint_samples_as_documented():
    disjoint = ["alpha beta", "gamma delta", "epsilon zeta"]
    assert homogenization(disjoint) == 0.0
    assert load("homogenization").homogenization_score(disjoint, "rougel", verbose=False) == 1.0


def test_homogenization_of_text_without_rouge_tokens_is_nan_not_maximally_diverse():
    emoji = ["🙂🎉"] * 9
    assert math.isnan(homogenization(emoji))  # ROUGE sees nine empty samples: it used to say 0.0
    assert math.isnan(homogenization(["a cat", "кошка"]))  # one side without tokens: that pair is not scorable
    out = Homogenization().score(P, gens(emoji), [])
    assert math.isnan(out["homogenization-rougel"]) and out["homogenization-untokenized"] == 1.0
    assert Homogenization().score(P, gens(["a b", "a c"]), [])["homogenization-untokenized"] == 0.0
    # the unicode variant: identical samples in any script are one text; "кот спит" vs "кот ест": LCS 1 of 2
    assert homogenization(emoji, "unicode") == 1.0
    assert homogenization(["кот спит", "кот ест"], "unicode") == pytest.approx(0.5)
    assert unicode_tokens("Émigré 日本 🙂, x_y") == ["émigré", "日", "本", "🙂", "x", "y"]
    assert Homogenization(tok="unicode").fields(None)["tok"] == "unicode"  # type: ignore[arg-type]
    with pytest.raises(CrevalError, match="tok must be rouge or unicode"):
        Homogenization(tok="words")


def test_compression_conventions():
    texts = ["the same words again"] * 8
    assert compression_ratio(texts, "zlib") > compression_ratio(texts, "diversity") > 1
    assert math.isnan(compression_ratio(["", ""]))
    assert CompressionRatio(convention="zlib").fields(None)["conv"] == "zlib"  # type: ignore[arg-type]
    assert CompressionRatio().fields(None)["gz"] == "mtime0"  # type: ignore[arg-type]


def test_scope_final_and_answer():
    samples = gens(["<think>long musing musing musing</think> Paris", "<think>more musing</think> Paris"])
    grades = [Grade(True, answer="Paris"), Grade(True, answer="Lyon")]
    whole = DistinctN(n=(1,)).score(P, samples, grades)["distinct-1"]
    final = DistinctN(n=(1,), scope="final").score(P, samples, grades)["distinct-1"]
    answer = DistinctN(n=(1,), scope="answer").score(P, samples, grades)["distinct-1"]
    assert final == 0.5 and answer == 1.0 and whole != final
