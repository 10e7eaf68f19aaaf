"""Part-of-speech (spaCy en_core_web_sm) and AST diversity."""
import math

import pytest

from creval.metrics import pos_diversity
from creval.metrics.ast_diversity import AstDiversity, node_types, subtree_shapes
from creval.metrics.pos_diversity import PosDiversity
from creval.records import Generation, Prompt

P = Prompt("p", "q")
needs_tagger = pytest.mark.skipif(pos_diversity.tagger() is None, reason="spaCy en_core_web_sm not installed")


def gens(texts):
    return [Generation(t, (), (), None, "exact", "stop") for t in texts]


@needs_tagger
def test_pos_metrics_with_the_real_tagger():
    metric = PosDiversity(n=(2,))
    out = metric.score(P, gens(["The cat sat on the mat.", "The dog sat on the rug."]), [])
    # both tag as DT NN VBD IN DT NN . : 6 bigrams each, (DT NN) twice: 5 unique of 12 (same syntax)
    assert metric._tags["The cat sat on the mat."] == "DT NN VBD IN DT NN ."
    assert out["pos-distinct-2"] == 5 / 12
    varied = metric.score(P, gens(["The cat sat on the mat.", "Quickly, run home!"]), [])
    assert varied["pos-distinct-2"] > out["pos-distinct-2"]
    assert varied["pos-compression-ratio"] < out["pos-compression-ratio"]
    assert metric.text_fields()["tagger"].startswith("spacy:en_core_web_sm")


def test_pos_without_a_tagger_is_unavailable_with_instructions(monkeypatch):
    monkeypatch.setattr(pos_diversity, "tagger", lambda: None)
    reason = PosDiversity().unavailable()
    assert reason and "pip install" in reason and "en_core_web_sm" in reason


def test_ast_node_types_and_subtrees_by_hand():
    import ast

    tree = ast.parse("x = 1")
    assert node_types(tree) == ["Module", "Assign", "Name", "Store", "Constant"]
    # subtrees with >= 2 nodes: Name(Store) and Assign(...) and Module(...)
    assert len(subtree_shapes(tree, 2)) == 3


def test_ast_diversity_ignores_names_counts_unparsable():
    same_shape = ["```python\ndef f(a):\n    return a + 1\n```", "```python\ndef g(b):\n    return b + 2\n```"]
    other = ["```python\ndef f(a):\n    return a + 1\n```", "```python\ndef g(b):\n    for i in b:\n        print(i)\n```"]
    metric = AstDiversity(n=(2,))
    a, b = metric.score(P, gens(same_shape), []), metric.score(P, gens(other), [])
    assert a["ast-distinct-2"] < b["ast-distinct-2"] and a["ast-distinct-subtrees"] < b["ast-distinct-subtrees"]
    assert a["ast-unparsable"] == 0.0
    broken = metric.score(P, gens(["def f(:\n", "```python\nx = 1\n```"]), [])
    assert broken["ast-unparsable"] == 0.5 and not math.isnan(broken["ast-distinct-2"])
    assert math.isnan(metric.score(P, gens(["def (", "]"]), [])["ast-distinct-2"])


def test_completion_prompts_are_parsed_with_their_prompt():
    prompt = Prompt("h", "def inc(x):\n    \"\"\"Add one.\"\"\"\n", style="completion")
    out = AstDiversity().score(prompt, gens(["    return x + 1\n", "    return 1 + x\n"]), [])
    assert out["ast-unparsable"] == 0.0
