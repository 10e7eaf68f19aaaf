"""Every registered metric: identical samples score least diverse, disjoint ones most; empty, single,
non-ASCII and unparsable samples give defined values (a number or NaN), never an exception."""
import math

import pytest

from creval import registry
from creval.metric import CellInfo
from creval.records import Generation, GenerationConfig, Grade, Prompt

# +1: higher means more diverse; -1: higher means more alike
DIRECTION = {
    "distinct-1": 1, "distinct-2": 1, "distinct-1-li": 1, "distinct-2-li": 1, "ead-1": 1, "ead-2": 1,
    "self-bleu": -1, "ngram-diversity": 1, "compression-ratio": -1, "homogenization-rougel": -1,
    "self-repetition": -1, "pos-compression-ratio": -1, "pos-distinct-2": 1, "pos-distinct-3": 1,
    "ast-distinct-2": 1, "ast-distinct-4": 1, "ast-distinct-subtrees": 1, "embedding-diversity": 1, "vendi": 1,
    "distinct-k": 1, "semantic-entropy": 1,
}
SAME = "the quick brown fox jumps over the lazy dog near the river bank"
APART = [SAME, "seven purple elephants quietly dance beneath silver moonlight tonight",
         "quarterly revenue increased because customers bought many umbrellas",
         "ancient libraries preserve fragile manuscripts written by forgotten monks"]
CODE_SAME = "```python\ndef f(x):\n    return x + 1\n```"
CODE_APART = [CODE_SAME, "```python\ndef f(xs):\n    out = []\n    for x in xs:\n        if x > 0:\n            out.append(x)\n    return out\n```",
              "```python\nclass A:\n    def __init__(self):\n        self.v = {}\n```",
              "```python\nimport math\nprint(math.sqrt(2) * [1, 2][0])\n```"]
CONFIG = GenerationConfig(n=4)


def metrics():
    out = []
    for name in registry.available("metrics"):
        metric = registry.load("metrics", name)()
        if metric.unavailable() is None:
            out.append(metric)
    return out


def family_for(metric):
    return "code" if metric.families == ("code",) else ("math" if "writing" not in metric.families else "writing")


def score(metric, texts, family, answers=None):
    gens = [Generation(t, (1,) * len(t.split()), (0.0,) * len(t.split()), (1.0,) * len(t.split()), "exact", "stop")
            for t in texts]
    grades = [Grade(True if family != "writing" else None, answer=(answers or texts)[i]) for i in range(len(texts))]
    prompt = Prompt("p", "q")
    metric.begin_cell(CellInfo(CONFIG, "t@1:x", family, "exact"), [(prompt, gens, grades)])
    return {**metric.score(prompt, gens, grades), **metric.score_cell([(prompt, gens, grades)])}


@pytest.mark.parametrize("metric", metrics(), ids=lambda m: m.name)
def test_identical_samples_are_least_diverse_disjoint_most(metric):
    family = family_for(metric)
    same, apart = ([CODE_SAME] * 4, CODE_APART) if family == "code" else ([SAME] * 4, APART)
    low, high = score(metric, same, family), score(metric, apart, family)
    checked = 0
    for stat, direction in DIRECTION.items():
        if stat in low:
            checked += 1
            assert direction * (high[stat] - low[stat]) > 0, (stat, low[stat], high[stat])
    if metric.name in ("distinct_n", "self_bleu", "homogenization", "embedding_diversity", "ast_diversity", "equivalence"):
        assert checked, "a diversity metric must be checked here"


@pytest.mark.parametrize("metric", metrics(), ids=lambda m: m.name)
@pytest.mark.parametrize("texts", [["", "", ""], ["only one sample"], ["日本語のテキストです", "émigré café naïve", "🙂 🙃 🙂"],
                                   ["def broken(:", "```python\nx = (\n```"]], ids=["empty", "one", "non-ascii", "unparsable"])
def test_edge_cases_give_defined_values(metric, texts):
    family = family_for(metric)
    out = score(metric, texts, family)
    assert set(out) == set(metric.statistics(GenerationConfig(n=len(texts)))) or metric.name in ("pass_at_k", "mean_at_k",
                                                                                                  "maj_at_k", "g_pass_at_k")
    assert all(isinstance(v, float) and (math.isfinite(v) or math.isnan(v)) for v in out.values()), out


# One process scores every metric with its clock set to argv[1]; the texts include a group whose gzip
# size changed with the wall clock before the inner gzip timestamp was pinned.
_SCORE_ALL = """
import json, sys, time
time.time = lambda: float(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from test_metric_properties import APART, CODE_APART, family_for, metrics, score
out = {}
for metric in metrics():
    family = family_for(metric)
    for i, texts in enumerate([CODE_APART if family == "code" else APART, [
            "the cat sat on the mat", "a dog ran in the park", "the cat sat", "x" * 11]]):
        out.update({f"{metric.name}/{i}/{k}": repr(v) for k, v in score(metric, texts, family).items()})
print(json.dumps(out, sort_keys=True))
"""


def test_every_metric_gives_the_same_values_at_any_time_and_hash_seed():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    def run(clock, seed):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _SCORE_ALL, str(clock), str(Path(__file__).parent)],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.splitlines()[-1])

    first, second = run(0, "1"), run(1_700_000_000 + 13 * 3600, "2")
    assert len(first) > 40
    assert {k: (v, second[k]) for k, v in first.items() if second[k] != v} == {}


def _gens(entropies, eranks=None):
    return [Generation(f"s{i}", (1,) * len(h), (0.0,) * len(h), tuple(h), "exact", "stop",
                       hidden_erank=None if eranks is None else eranks[i]) for i, h in enumerate(entropies)]


# The metrics the diversity ordering above cannot check (correctness, entropy, hidden-state rank), each
# on one prompt whose statistics are worked out by hand in the comments.
GRADES = [Grade(True, "7"), Grade(False, "8"), Grade(False, "8"), Grade(False, "9")]  # n = 4, c = 1
BY_HAND = {
    "pass_at_k": {"pass@1": 0.25, "pass@2": 1 - 3 / 6, "pass@4": 1.0},  # 1 - C(3,k)/C(4,k)
    "mean_at_k": {"mean@1": 1.0, "mean@2": 0.5, "mean@4": 0.25},  # correct share among the first k
    "maj_at_k": {"maj@1": 1.0, "maj@2": 1.0, "maj@4": 0.0},  # 7 | 7 vs 8 (tie: earliest) | 8 wins twice
    # hypergeometric tail with c = 1: k=1 -> 1/4; k=2, at least 1 -> C(3,1)/C(4,2); at least 2 -> 0
    "g_pass_at_k": {"g-pass@1:0.25": 0.25, "g-pass@1:1": 0.25, "g-pass@2:0.5": 0.5, "g-pass@2:0.75": 0.0,
                    "g-pass@4:0.25": 1.0, "g-pass@4:0.5": 0.0, "mg-pass@2": 0.0, "mg-pass@4": 0.0},
    # per response (1+3)/2 = 2, 0.5, 1, 1 -> mean 1.125; over tokens (1+3+0.5+1+1)/5 = 1.3
    "token_entropy": {"token_entropy": 1.125, "token_entropy_tokw": 1.3, "token_entropy_lo": 1.125,
                      "token_entropy_hi": 1.125},
    "effective_rank": {"hidden-erank": 2.5},  # mean of the responses' 2, 4, 1, 3
    # one of four samples correct: it passes alone (one answer class per 4 samples; no distinct-2 among one)
    "effective_diversity": {"quality-pass-rate": 0.25, "effective-classes": 0.25},
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_statistics_the_ordering_cannot_check_match_hand_computed_values(name):
    metric = registry.load("metrics", name)()
    family = "math" if name in ("pass_at_k", "mean_at_k", "maj_at_k", "g_pass_at_k", "effective_diversity") else "writing"
    gens = _gens([(1.0, 3.0), (0.5,), (1.0,), (1.0,)], eranks=[2.0, 4.0, 1.0, 3.0])
    prompt = Prompt("p", "q")
    metric.prepare(CONFIG)
    metric.begin_cell(CellInfo(CONFIG, "t@1:x", family, "exact"), [(prompt, gens, GRADES)])
    out = metric.score(prompt, gens, GRADES)
    for stat, value in BY_HAND[name].items():
        assert out[stat] == pytest.approx(value), (stat, out[stat], value)


def test_every_metric_has_a_checked_statistic():
    covered = {m.name for m in metrics() if any(s in DIRECTION for s in score(m, APART, family_for(m)))}
    assert {m.name for m in metrics()} <= covered | set(BY_HAND)
