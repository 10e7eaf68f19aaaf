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


def test_sampled_and_model_entropies_are_reported_apart_with_their_kind_in_the_signature():
    from creval.metric import CellInfo
    from creval.records import GenerationConfig

    g = Generation("t", (1, 2), (0.0, 0.0), (0.0, 0.0), "exact", "stop", token_entropy_model=(1.0, 2.0),
                   model_entropy_kind="topk-renorm:K=20", token_entropy_model_lo=(0.5, 1.5),
                   token_entropy_model_hi=(1.5, 2.5))
    out = TokenEntropy().score(Prompt("p", "q"), [g], [])
    assert out["token_entropy"] == 0.0 and out["token_entropy_model"] == 1.5
    assert (out["token_entropy_model_lo"], out["token_entropy_model_hi"]) == (1.0, 2.0)
    cell = CellInfo(GenerationConfig(n=1, temperature=0.0), "t@1:x", "writing", "exact",
                    model_entropy_kind="topk-renorm:K=20")
    assert TokenEntropy().signature("token_entropy", cell).startswith("token_entropy|H:exact|dist:sampled|n:1|T:0.0|")
    assert TokenEntropy().signature("token_entropy_model_tokw", cell).startswith(
        "token_entropy_model_tokw|H:topk-renorm:K=20|dist:model|")
    missing = TokenEntropy().score(Prompt("p", "q"), [gen((1.0,))], [])
    assert missing["token_entropy"] == 1.0 and math.isnan(missing["token_entropy_model"])


def test_cells_stored_before_the_split_read_back_as_what_they_hold():
    """An old hf cell's one series was softmax(logits / T) before top-p: the model entropy. Any other
    old series keeps its place, its kind marked legacy."""
    import pyarrow as pa

    from creval.frames import GENERATIONS_SCHEMA, table_to_generations

    old = pa.schema([f for f in GENERATIONS_SCHEMA if "model" not in f.name])
    row = {"prompt_id": "p", "sample": 0, "seed": 1, "text": "t", "token_ids": [1], "chosen_logprobs": [-0.5],
           "token_entropy": [2.0], "finish_reason": "stop", "n_tokens": 1}
    table = pa.Table.from_pylist([{**row, "entropy_kind": "exact"}, {**row, "sample": 1, "entropy_kind": "topk-renorm:K=20"}],
                                 schema=old)
    hf, topk = table_to_generations(table)["p"]
    assert (hf.token_entropy, hf.entropy_kind, hf.token_entropy_model, hf.model_entropy_kind) == (None, "none", (2.0,), "exact")
    assert (topk.token_entropy, topk.entropy_kind, topk.token_entropy_model) == ((2.0,), "legacy:topk-renorm:K=20", None)
    # the cell's config completes the sampled entropy where it follows: top_p = 1 (same), greedy (0)
    from creval.records import GenerationConfig

    def sampled(**config):
        g = table_to_generations(table, GenerationConfig(**config))["p"][0]
        return g.token_entropy, g.entropy_kind, g.token_entropy_model

    assert sampled(temperature=0.7) == ((2.0,), "exact", (2.0,))
    assert sampled(temperature=0.0, top_p=0.5) == ((0.0,), "exact", (2.0,))
    assert sampled(temperature=0.7, top_p=0.5) == (None, "none", (2.0,))


def test_vllm_fields_from_processed_logprobs_as_its_sampler_computes_them(tiny_ckpt):
    """Runs here without vLLM: the step log-probabilities are built as vLLM's sampler builds
    "processed_logprobs" (log_softmax of logits / T with top-p-masked tokens at -inf; raw log_softmax when
    greedy); the backend's mapping must give hf's exact sampled entropy where the nucleus fits in K, the
    model entropy at top_p = 1 and when greedy, and none for the model at top_p < 1. The real engine is
    compared with hf in tests/test_vllm_backend.py (tox -e vllm)."""
    from types import SimpleNamespace

    import torch

    from creval.backends.hf import HFBackend
    from creval.backends.vllm import VLLMBackend
    from creval.records import GenerationConfig

    hf = HFBackend.load(tiny_ckpt, {})
    vllm = VLLMBackend(SimpleNamespace(get_tokenizer=lambda: hf.tokenizer), {"top_logprobs": 20})
    prompt = Prompt("a", "Write a poem about rain.")
    for T, top_p in ((0.0, 1.0), (0.7, 0.5), (1.0, 1.0)):
        config = GenerationConfig(n=1, temperature=T, top_p=top_p, max_new_tokens=6, seed=2)
        ref = hf.generate([prompt], config)[0][0]
        text, special = hf.render(prompt)
        ids = hf.tokenizer(text, add_special_tokens=special)["input_ids"]
        with torch.no_grad():
            logits = hf.model(torch.tensor([ids + list(ref.token_ids)])).logits[0, len(ids) - 1 : -1].float()
        logits = logits / (T or 1.0)
        if top_p < 1:
            sorted_p, order = torch.softmax(logits, -1).sort(-1, descending=True)
            drop = torch.zeros_like(logits, dtype=torch.bool).scatter(1, order, (sorted_p.cumsum(-1) - sorted_p) >= top_p)
            logits = logits.masked_fill(drop, -math.inf)
        logp = torch.log_softmax(logits, -1)
        steps = []
        for tok, row in zip(ref.token_ids, logp):
            values, top = row.topk(20)
            step = {int(t): SimpleNamespace(logprob=float(v), rank=r + 1) for r, (v, t) in enumerate(zip(values, top))}
            step.setdefault(tok, SimpleNamespace(logprob=float(row[tok]), rank=None))
            steps.append(step)
        g = vllm._generation(SimpleNamespace(token_ids=ref.token_ids, logprobs=steps, finish_reason="length", index=0),
                             20, 0, config)
        if T == 0:
            assert g.token_entropy == (0.0,) * len(g.token_ids) and g.entropy_kind == "exact"
        else:
            assert g.entropy_kind == "topk-renorm:K=20"
        if top_p < 1:
            assert g.token_entropy_model is None and g.model_entropy_kind == "none"
            exact = [(est, h) for est, h, top in zip(g.token_entropy, ref.token_entropy, g.top_logprobs)
                     if sum(math.exp(lp) > 0 for lp in top) < 20]
            assert exact and all(abs(est - h) < 1e-4 for est, h in exact)  # nucleus within K: exact
            assert all(lo - 1e-4 <= h <= hi + 1e-4 for h, lo, hi in
                       zip(ref.token_entropy, g.token_entropy_lo, g.token_entropy_hi))
        else:
            assert g.model_entropy_kind == "topk-renorm:K=20"
            for h, lo, hi in zip(ref.token_entropy_model, g.token_entropy_model_lo, g.token_entropy_model_hi):
                assert lo - 1e-4 <= h <= hi + 1e-4
