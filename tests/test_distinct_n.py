import math

from creval.metric import CellInfo
from creval.metrics.distinct_n import DistinctN, distinct_n
from creval.records import Generation, GenerationConfig, Prompt


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def test_hand_computed_values():
    texts = ["the cat sat", "The cat ran"]
    # unigrams: the cat sat the cat ran -> 4 unique / 6
    assert distinct_n(texts, 1) == 4 / 6
    # bigrams: (the cat) (cat sat) (the cat) (cat ran) -> 3 unique / 4; none cross the sample boundary
    assert distinct_n(texts, 2) == 3 / 4
    assert distinct_n(["a b a b"], 2) == 2 / 3


def test_identical_samples_minimum_disjoint_maximum():
    assert distinct_n(["x y z"] * 4, 1) == 3 / 12
    assert distinct_n(["a b", "c d", "e f"], 1) == 1.0


def test_no_ngrams_is_nan():
    assert math.isnan(distinct_n(["", "one"], 2))


def test_metric_and_signature():
    m = DistinctN(n=(1, 3))
    out = m.score(Prompt("p", "q"), [gen("a b c d"), gen("a b c e")], [])
    assert out == {"distinct-1": 5 / 8, "distinct-1-li": 5 / 8, "distinct-3": 3 / 4, "distinct-3-li": 3 / 8}
    cell = CellInfo(GenerationConfig(n=2, temperature=0.7), "w@1:abcd", "writing", "exact",
                    backend="hf/1:dtype=float32:device=cpu")
    assert m.signature("distinct-3", cell) == \
        "distinct-3|tok:ws|case:lc|scope:response|n:2|T:0.7|top_p:1.0|max:256|stop:none|be:hf|dtype:float32|task:w@1:abcd|v:2"
