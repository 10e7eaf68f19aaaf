import math

from creval.metrics.token_entropy import TokenEntropy
from creval.records import Generation, Prompt


def gen(entropies):
    return Generation("t", tuple(range(len(entropies))), (0.0,) * len(entropies), entropies, "exact", "stop")


def test_response_mean_and_token_weighted_differ_as_defined():
    out = TokenEntropy().score(Prompt("p", "q"), [gen((1.0, 3.0)), gen((4.0,))], [])
    assert out["token_entropy"] == (2.0 + 4.0) / 2
    assert out["token_entropy_tokw"] == (1.0 + 3.0 + 4.0) / 3


def test_empty_responses_are_left_out_and_none_at_all_is_nan():
    out = TokenEntropy().score(Prompt("p", "q"), [gen(()), gen((2.0,))], [])
    assert out["token_entropy"] == 2.0
    out = TokenEntropy().score(Prompt("p", "q"), [gen(())], [])
    assert math.isnan(out["token_entropy"])
