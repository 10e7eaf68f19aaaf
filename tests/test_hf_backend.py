"""The Hugging Face backend on tiny real checkpoints: reproducible, exact entropies, batching-independent."""
import math

import pytest
import torch

from creval.backends.hf import HFBackend
from creval.records import GenerationConfig, Prompt

PROMPTS = [Prompt("a", "Write a poem about rain."), Prompt("b", "Solve: 2 + 2", style="completion"),
           Prompt("c", "Name a fruit.", system="Be brief.")]


@pytest.fixture(scope="module")
def backend(tiny_ckpt):
    return HFBackend.load(tiny_ckpt, {})


def mean_entropy(gens):
    values = [h for gs in gens for g in gs for h in g.token_entropy]
    return sum(values) / len(values)


def test_same_seed_same_generations_other_seed_differs(backend):
    config = GenerationConfig(n=4, max_new_tokens=16, seed=7)
    first, second = backend.generate(PROMPTS, config), backend.generate(PROMPTS, config)
    assert first == second
    other = backend.generate(PROMPTS, GenerationConfig(n=4, max_new_tokens=16, seed=8))
    assert [g.token_ids for gs in other for g in gs] != [g.token_ids for gs in first for g in gs]


def test_samples_do_not_depend_on_batching(tiny_ckpt, backend):
    config = GenerationConfig(n=3, max_new_tokens=12, seed=1)
    small = HFBackend.load(tiny_ckpt, {"batch_size": 1})
    together = backend.generate(PROMPTS, config)
    assert [g.token_ids for gs in small.generate(PROMPTS, config) for g in gs] == \
        [g.token_ids for gs in together for g in gs]
    alone = backend.generate(PROMPTS[1:2], config)
    assert alone[0] == together[1]


def test_entropy_and_logprobs_are_exact_full_vocabulary_values(backend):
    """Reference: one unpadded forward pass over prompt + sampled tokens, softmax(logits / T)."""
    T = 0.7
    gens = backend.generate(PROMPTS, GenerationConfig(n=2, max_new_tokens=10, temperature=T, seed=3))
    for prompt, samples in zip(PROMPTS, gens):
        text, special = backend.render(prompt)
        prompt_ids = backend.tokenizer(text, add_special_tokens=special)["input_ids"]
        for g in samples:
            ids = torch.tensor([prompt_ids + list(g.token_ids)])
            with torch.no_grad():
                logits = backend.model(ids).logits[0, len(prompt_ids) - 1 : -1].float() / T
            logp = torch.log_softmax(logits, -1)
            entropy = -(logp.exp() * logp).sum(-1)
            chosen = logp.gather(1, torch.tensor(g.token_ids)[:, None])[:, 0]
            assert torch.allclose(torch.tensor(g.token_entropy), entropy, atol=1e-4)
            assert torch.allclose(torch.tensor(g.chosen_logprobs), chosen, atol=1e-4)
            assert g.entropy_kind == "exact"


def nucleus(probs, top_p):
    """Reference top-p: the most likely tokens until their mass reaches top_p (the first always kept)."""
    keep, mass = [], 0.0
    for p, i in sorted(((p, i) for i, p in enumerate(probs.tolist())), reverse=True):
        if mass >= top_p:
            break
        keep.append(i)
        mass += p
    kept = torch.zeros_like(probs)
    kept[keep] = probs[keep]
    return kept / kept.sum()


@pytest.mark.parametrize("T", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("top_p", [0.5, 1.0])
def test_sampled_and_model_entropies_match_a_direct_computation(backend, T, top_p):
    """Sampled: the distribution drawn from (softmax(logits / T), top-p renormalised; 0 when greedy);
    model: softmax(logits / T) over the full vocabulary (T = 0: softmax(logits)). Recomputed from one
    unpadded forward pass over prompt + sampled tokens."""
    gens = backend.generate(PROMPTS, GenerationConfig(n=2, max_new_tokens=8, temperature=T, top_p=top_p, seed=5))
    checked = 0
    for prompt, samples in zip(PROMPTS, gens):
        text, special = backend.render(prompt)
        prompt_ids = backend.tokenizer(text, add_special_tokens=special)["input_ids"]
        for g in samples:
            with torch.no_grad():
                logits = backend.model(torch.tensor([prompt_ids + list(g.token_ids)])).logits[0, len(prompt_ids) - 1 : -1]
            probs = torch.softmax(logits.float() / (T or 1.0), -1)
            model = torch.special.entr(probs).sum(-1)
            if T == 0:
                sampled = torch.zeros(len(g.token_ids))
            else:
                sampled = torch.stack([torch.special.entr(nucleus(p, top_p)).sum() for p in probs])
            assert torch.allclose(torch.tensor(g.token_entropy_model), model, atol=1e-4)
            assert torch.allclose(torch.tensor(g.token_entropy), sampled, atol=1e-4)
            assert g.entropy_kind == g.model_entropy_kind == "exact"
            checked += len(g.token_ids)
    assert checked > 20


def test_sharpened_output_layer_lowers_entropy(backend, sharp_ckpt):
    config = GenerationConfig(n=4, max_new_tokens=16)
    sharp = HFBackend.load(sharp_ckpt, {})
    assert mean_entropy(sharp.generate(PROMPTS, config)) < 0.5 * mean_entropy(backend.generate(PROMPTS, config))


def test_finish_reasons_and_lengths(backend):
    gens = backend.generate(PROMPTS, GenerationConfig(n=8, max_new_tokens=5, seed=0))
    for g in (g for gs in gens for g in gs):
        assert len(g.token_ids) == len(g.chosen_logprobs) == len(g.token_entropy) <= 5
        if g.finish_reason == "length":
            assert len(g.token_ids) == 5
        else:
            assert g.token_ids[-1] in backend.eos_ids
    assert {g.finish_reason for gs in gens for g in gs} == {"stop", "length"}


def test_stop_strings_cut_the_text_and_end_the_sample(backend):
    config = GenerationConfig(n=6, max_new_tokens=40, seed=2)
    plain = backend.generate(PROMPTS[:1], config)[0]
    stop = next(t for t in (g.text for g in plain) if len(t) > 6)[3:5]
    cut = backend.generate(PROMPTS[:1], GenerationConfig(n=6, max_new_tokens=40, seed=2, stop=(stop,)))[0]
    assert all(stop not in g.text for g in cut)
    hit = [g for g, p in zip(cut, plain) if stop in p.text]
    assert hit and all(g.finish_reason == "stop" for g in hit)


def test_greedy_is_deterministic_and_top_p_restricts_sampling(backend):
    greedy = backend.generate(PROMPTS[:1], GenerationConfig(n=3, temperature=0.0, max_new_tokens=8))[0]
    assert len({g.token_ids for g in greedy}) == 1
    tiny_p = backend.generate(PROMPTS[:1], GenerationConfig(n=3, top_p=1e-6, max_new_tokens=8))[0]
    assert {g.token_ids for g in tiny_p} == {greedy[0].token_ids}  # only the top token survives


def test_chat_template_is_applied_when_the_tokenizer_has_one(backend, plain_ckpt):
    text, special = backend.render(PROMPTS[2])
    assert text.startswith("<|system|>Be brief.") and text.endswith("<|assistant|>") and special is False
    assert backend.render(PROMPTS[1]) == ("Solve: 2 + 2", True)  # completion prompts stay verbatim
    plain = HFBackend.load(plain_ckpt, {})
    assert plain.render(PROMPTS[0]) == ("Write a poem about rain.", True)


def test_checkpoint_generation_defaults_are_ignored(tiny_ckpt, tmp_path):
    """A generation_config.json asking for repetition penalty and top_k must not change sampling."""
    import shutil

    from transformers import GenerationConfig as HFGen

    copy = tmp_path / "ckpt"
    shutil.copytree(tiny_ckpt, copy)
    HFGen(repetition_penalty=3.0, top_k=2, temperature=0.1, do_sample=True, eos_token_id=0).save_pretrained(copy)
    config = GenerationConfig(n=3, max_new_tokens=10, seed=5)
    assert HFBackend.load(copy, {}).generate(PROMPTS, config) == HFBackend.load(tiny_ckpt, {}).generate(PROMPTS, config)


def test_entropy_upper_bound_is_log_vocab(backend):
    gens = backend.generate(PROMPTS, GenerationConfig(n=2, max_new_tokens=8))
    assert max(h for gs in gens for g in gs for h in g.token_entropy) <= math.log(len(backend.tokenizer)) + 1e-4
