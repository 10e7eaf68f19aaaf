"""Signatures: canonical config values, the fields that change generations, and comparability across n."""
import pytest

from creval.errors import CrevalError
from creval.metric import CellInfo
from creval.metrics.distinct_n import DistinctN
from creval.metrics.pass_at_k import PassAtK
from creval.records import GenerationConfig, canonical_number
from creval.signature import comparable, is_n_free, parse, render, strip_fields


def test_yaml_int_and_cli_float_are_one_config_one_hash():
    yaml_like = GenerationConfig(n=8.0, temperature=1, top_p=1, max_new_tokens=256.0, seed=0, stop=["\n"])
    cli_like = GenerationConfig(n=8, temperature=1.0, top_p=1.0, max_new_tokens=256, seed=0, stop=("\n",))
    assert yaml_like == cli_like and yaml_like.hash() == cli_like.hash()
    assert type(yaml_like.temperature) is float and type(yaml_like.n) is int and yaml_like.stop == ("\n",)
    assert GenerationConfig(stop="###").stop == ("###",)
    assert GenerationConfig(seed=2**62 + 1).seed == 2**62 + 1  # exact, not through a float


@pytest.mark.parametrize("kwargs", [{"n": 2.5}, {"temperature": "hot"}, {"top_p": True}, {"stop": [1]}])
def test_values_that_are_not_numbers_or_strings_are_refused(kwargs):
    with pytest.raises(CrevalError):
        GenerationConfig(**kwargs)


# Cell keys of configs the CLI makes (floats) must not move: existing stores stay reachable.
GOLDEN = [({}, "7ffd55dd32d42fab"),
          ({"n": 4, "temperature": 0.7, "top_p": 0.95, "max_new_tokens": 128, "seed": 1, "stop": ("\n\n",)},
           "dab2b1b1d98e8bc5"),
          ({"temperature": 0.0}, "fa5f453dd4699619"),
          ({"n": 16, "temperature": 1.2, "top_p": 0.5}, "2ef858c97e6a2131"),
          ({"temperature": 1}, "7ffd55dd32d42fab")]  # a YAML int is the CLI's 1.0


@pytest.mark.parametrize("kwargs,expected", GOLDEN)
def test_config_hashes_are_pinned(kwargs, expected):
    assert GenerationConfig(**kwargs).hash() == expected


def test_canonical_number():
    assert [canonical_number(x) for x in (8, 1, 1.0, 0.7, 1e-05)] == ["8", "1", "1.0", "0.7", "1e-05"]


def cell(config, backend="hf/1:dtype=bfloat16:device=cuda"):
    return CellInfo(config, "gsm8k@1:3fa2c1d0", "math", "exact", backend=backend)


def test_signature_names_stop_strings_backend_and_dtype():
    plain = PassAtK(k=(1,)).signature("pass@1", cell(GenerationConfig(n=4, temperature=1)))
    assert plain == ("pass@1|n:4|est:n-free|T:1.0|top_p:1.0|max:256|stop:none|be:hf|dtype:bfloat16"
                     "|task:gsm8k@1:3fa2c1d0|v:1")
    stopped = PassAtK(k=(1,)).signature("pass@1", cell(GenerationConfig(n=4, stop=(" ",))))
    assert comparable(plain, stopped) == (False, f"stop: none vs {dict(parse(stopped)[1])['stop']}")
    vllm = PassAtK(k=(1,)).signature("pass@1", cell(GenerationConfig(n=4), "vllm/1:dtype=auto:tp=1:K=20"))
    assert comparable(plain, vllm) == (False, "be: hf vs vllm")
    assert "be:" not in DistinctN().signature("distinct-1", cell(GenerationConfig(), backend=""))


def test_unbiased_estimators_compare_across_n_others_do_not():
    at4, at8 = (PassAtK(k=(1,)).signature("pass@1", cell(GenerationConfig(n=n))) for n in (4, 8))
    assert is_n_free(at4) and comparable(at4, at8) == (True, "")
    d4, d8 = (DistinctN().signature("distinct-2", cell(GenerationConfig(n=n))) for n in (4, 8))
    assert not is_n_free(d4) and comparable(d4, d8) == (False, "n: 4 vs 8")
    assert comparable(at4, d4) == (False, "statistic: pass@1 vs distinct-2")
    # n-free only when both say so; a missing field is named
    assert comparable(strip_fields(at4, {"est"}), at8) == (False, "n: 4 vs 8")
    assert comparable("s|a:1", "s|a:1|b:2") == (False, "b: (absent) vs 2")


def test_parse_and_render_round_trip_values_with_colons():
    sig = "token_entropy|H:topk-renorm:K=20|dist:sampled|n:8|task:t@1:ab|v:3"
    statistic, fields = parse(sig)
    assert statistic == "token_entropy" and fields[0] == ("H", "topk-renorm:K=20") and render(statistic, fields) == sig
    assert strip_fields(sig, {"n", "v"}) == "token_entropy|H:topk-renorm:K=20|dist:sampled|task:t@1:ab"
