"""The vLLM backend and the OpenAI backend against the real engine and the real server (CPU build of
vLLM; `tox -e vllm`). Skipped where vLLM is not installed; in CI's vllm environment they must run."""
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

try:
    import vllm  # noqa: F401

    HAVE_VLLM = True
except ImportError:
    HAVE_VLLM = False

if os.environ.get("TOX_ENV_NAME") == "vllm":
    assert HAVE_VLLM, "the vllm tox environment must have vLLM"
pytestmark = [pytest.mark.vllm, pytest.mark.skipif(not HAVE_VLLM, reason="vLLM not installed (tox -e vllm)")]

from creval.backends.hf import HFBackend  # noqa: E402
from creval.records import GenerationConfig, Prompt  # noqa: E402

PROMPTS = [Prompt("a", "Write a poem about rain."), Prompt("b", "Solve: 2 + 2", style="completion"),
           Prompt("c", "Name a fruit.", system="Be brief.")]


@pytest.fixture(scope="module")
def sharp(tiny_ckpt, tmp_path_factory):
    from tiny import sharpen

    return sharpen(tiny_ckpt, tmp_path_factory.mktemp("vllm") / "sharp", 8.0)


@pytest.fixture(scope="module")
def engine(sharp):
    """One engine for the tests above the sweep test: closing an engine (the sweep's, the probe's) tears
    down vLLM's process-wide distributed state, after which this one cannot generate."""
    from creval.backends.vllm import VLLMBackend

    return VLLMBackend.load(sharp, {"dtype": "float32", "enforce_eager": True, "max_model_len": 512})


def test_greedy_tokens_match_the_hf_backend(engine, sharp):
    config = GenerationConfig(n=1, temperature=0.0, max_new_tokens=12)
    ours = engine.generate(PROMPTS, config)
    ref = HFBackend.load(sharp, {}).generate(PROMPTS, config)
    assert [g[0].token_ids for g in ours] == [g[0].token_ids for g in ref]
    assert [g[0].text for g in ours] == [g[0].text for g in ref]


def test_seeded_samples_are_reproducible(engine):
    config = GenerationConfig(n=4, temperature=1.0, max_new_tokens=10, seed=3)
    first, second = engine.generate(PROMPTS, config), engine.generate(PROMPTS, config)
    assert [[g.token_ids for g in gs] for gs in first] == [[g.token_ids for g in gs] for gs in second]
    assert len({g.token_ids for g in first[0]}) > 1  # n samples differ from each other


def test_topk_entropy_is_within_its_bounds_of_the_exact_entropy(engine, sharp):
    import torch

    T = 0.8
    hf = HFBackend.load(sharp, {})
    out = engine.generate(PROMPTS, GenerationConfig(n=2, temperature=T, max_new_tokens=8, seed=1))
    checked = 0
    for prompt, samples in zip(PROMPTS, out):
        text, special = hf.render(prompt)
        ids = hf.tokenizer(text, add_special_tokens=special)["input_ids"]
        for g in samples:
            assert g.entropy_kind == "topk-renorm:K=20" and len(g.top_logprobs) == len(g.token_ids)
            assert all(len(t) == 20 and list(t) == sorted(t, reverse=True) for t in g.top_logprobs)
            assert all(len(t) == 20 for t in g.top_token_ids)
            with torch.no_grad():
                logits = hf.model(torch.tensor([ids + list(g.token_ids)])).logits[0, len(ids) - 1 : -1] / T
            logp = torch.log_softmax(logits.float(), -1)
            exact = (-(logp.exp() * logp).sum(-1)).tolist()
            chosen = logp.gather(1, torch.tensor(g.token_ids)[:, None])[:, 0].tolist()
            for h, lo, hi, est, lp, lp_ref in zip(exact, g.token_entropy_lo, g.token_entropy_hi, g.token_entropy,
                                                  g.chosen_logprobs, chosen):
                assert lo - 1e-3 <= h <= hi + 1e-3 and abs(est - h) <= max(est - lo, hi - est) + 1e-3
                assert lp == pytest.approx(lp_ref, abs=1e-3)  # processed logprobs: the distribution at T
                checked += 1
            assert g.token_entropy_model == g.token_entropy  # top_p = 1: one distribution
    assert checked > 10


def _reference_entropies(hf, prompt, token_ids, T, top_p):
    """hf's exact (sampled, model) entropies of each step, from one forward pass over the given tokens."""
    import torch

    text, special = hf.render(prompt)
    ids = hf.tokenizer(text, add_special_tokens=special)["input_ids"]
    with torch.no_grad():
        logits = hf.model(torch.tensor([ids + list(token_ids)])).logits[0, len(ids) - 1 : -1].float()
    probs = torch.softmax(logits / (T or 1.0), -1)
    model = torch.special.entr(probs).sum(-1).tolist()
    if T == 0:
        return [0.0] * len(token_ids), model
    sorted_p, order = probs.sort(dim=-1, descending=True)
    kept = torch.zeros_like(probs).scatter(1, order, sorted_p * ((sorted_p.cumsum(-1) - sorted_p) < top_p))
    sampled = torch.special.entr(kept / kept.sum(-1, keepdim=True)).sum(-1).tolist()
    return sampled, model


@pytest.mark.parametrize("T", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("top_p", [0.5, 1.0])
def test_sampled_and_model_entropies_agree_with_hf(engine, sharp, T, top_p):
    """Processed log-probabilities describe the distribution sampled from: its top-K estimate brackets
    hf's exact value, and equals it where the nucleus fits in K (no tail). The model entropy is the same
    estimate at top_p = 1, the raw distribution's when greedy, and unknown otherwise."""
    hf = HFBackend.load(sharp, {})
    config = GenerationConfig(n=1 if T == 0 else 2, temperature=T, top_p=top_p, max_new_tokens=8, seed=4)
    out = engine.generate(PROMPTS, config)  # vLLM refuses n > 1 when greedy
    if T == 0:
        assert [g[0].token_ids for g in out] == [g[0].token_ids for g in hf.generate(PROMPTS, config)]
    steps = tail_free = matched = 0
    for prompt, samples in zip(PROMPTS, out):
        for g in samples:
            sampled, model = _reference_entropies(hf, prompt, g.token_ids, T, top_p)
            if T == 0:
                assert g.entropy_kind == "exact" and g.token_entropy == (0.0,) * len(g.token_ids)
            else:
                assert g.entropy_kind == "topk-renorm:K=20"
                for h, est, lo, hi, top in zip(sampled, g.token_entropy, g.token_entropy_lo, g.token_entropy_hi,
                                               g.top_logprobs):
                    assert lo - 1e-3 <= h <= hi + 1e-3
                    if sum(math.exp(lp) > 0 for lp in top) < 20:  # the nucleus fits in the top K: exact
                        tail_free += 1
                        matched += abs(est - h) <= 1e-3
            if T > 0 and top_p < 1:
                assert g.token_entropy_model is None and g.model_entropy_kind == "none"
            else:
                assert g.model_entropy_kind == "topk-renorm:K=20"
                for h, lo, hi in zip(model, g.token_entropy_model_lo, g.token_entropy_model_hi):
                    assert lo - 1e-3 <= h <= hi + 1e-3
            steps += len(g.token_ids)
    assert steps > 10
    if T > 0 and top_p < 1:  # the sharpened model's nucleus at 0.5 is small: exact for (nearly) every step
        assert tail_free > steps // 2 and matched >= tail_free - 1  # one step may sit on the nucleus boundary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _engine_weights(engine):
    """The running engine's parameters (vLLM's names and layouts), read in its worker."""
    return engine.llm.collective_rpc(
        lambda worker: {n: p.detach().clone() for n, p in worker.model_runner.get_model().named_parameters()})[0]


def test_weights_perturbed_in_place_are_the_hf_backends_and_undone_exactly(engine, sharp):
    import torch

    greedy = GenerationConfig(n=1, temperature=0.0, max_new_tokens=12)
    plain = _engine_weights(engine)
    try:
        engine.perturb("0.01:3")
        first = _engine_weights(engine)
        ours = engine.generate(PROMPTS, greedy)
        engine.perturb("0.01:4")
        other = _engine_weights(engine)
        engine.perturb("0.01:3")
        again = _engine_weights(engine)
    finally:
        engine.perturb(None)
    assert all(torch.equal(plain[n], w) for n, w in _engine_weights(engine).items())  # back, bit for bit
    assert all(torch.equal(first[n], w) for n, w in again.items())  # a (sigma, seed) is one set of weights
    assert any(not torch.equal(first[n], w) for n, w in other.items())
    for name, w in plain.items():  # noise of sigma times each tensor's RMS, whatever vLLM's layout
        rms = float(w.double().pow(2).mean().sqrt())
        if w.numel() >= 256 and rms > 0:
            assert float((first[name] - w).double().pow(2).mean().sqrt()) / rms == pytest.approx(0.01, rel=0.15), name
    ref = HFBackend.load(sharp, {"perturb": "0.01:3"}).generate(PROMPTS, greedy)  # the same perturbed weights
    assert [g[0].token_ids for g in ours] == [g[0].token_ids for g in ref]
    assert [g[0].token_ids for g in ours] != [g[0].token_ids for g in engine.generate(PROMPTS, greedy)]


def test_openai_backend_against_a_real_vllm_server(sharp, tmp_path, monkeypatch):
    import creval

    port = _free_port()
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(sharp),
                               "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port),
                               "--dtype", "float32", "--enforce-eager", "--max-model-len", "512"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(2)
        result = creval.run("tiny", ["mini_writing"], GenerationConfig(n=2, max_new_tokens=8), backend="openai",
                            backend_options={"base_url": f"http://127.0.0.1:{port}/v1"}, out=str(tmp_path / "r"))
        cell = result.cells[0]
        assert cell.n_samples == 40
        stats = {s.statistic: s.mean for s in cell.summaries}
        assert stats["token_entropy"] > 0 and stats["token_entropy_lo"] <= stats["token_entropy_hi"]
        assert math.isnan(stats["token_entropy_model"])  # what a server's logprobs describe is its setting

        # the same server as an LLM judge of equivalence (a tiny random model: its verdicts are noise, but
        # every pair is asked once, its reply parsed and cached with its prompt)
        from creval import registry
        from creval.metrics import judge_equivalence as je

        registry.register("metrics", "judge_equivalence", "creval.metrics.judge_equivalence:JudgeEquivalence")
        monkeypatch.setenv(je.URL_ENV, f"http://127.0.0.1:{port}/v1")
        judged = creval.run("tiny", ["mini_writing"], GenerationConfig(n=2, max_new_tokens=8), backend="openai",
                            backend_options={"base_url": f"http://127.0.0.1:{port}/v1"},
                            metrics=["judge_equivalence:judge=tiny"], out=str(tmp_path / "r"))
        classes = {s.statistic: s.mean for s in judged.cells[0].summaries}
        (verdicts,) = [j for j in je._judges.values()]
        assert verdicts.asked == 20 and len(verdicts.path.read_text().splitlines()) == 20
        decided = sum(je.verdict(r) is not None for r in verdicts.cache.values())  # a prompt with any other reply is NaN
        assert judged.cells[0].cached and (1.0 <= classes["judge-distinct-k"] <= 2.0 if decided else
                                           math.isnan(classes["judge-distinct-k"]))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_sweep_keeps_one_vllm_engine_per_schedule_swapping_weights(tiny_ckpt, tmp_path, monkeypatch):
    from tiny import sharpen

    from creval.backends.vllm import VLLMBackend
    from creval.manifest import load_manifest
    from creval.store import Store
    from creval.sweep import sweep

    paths = [sharpen(tiny_ckpt, tmp_path / f"step-{i}", f) for i, f in enumerate((1.0, 2.5, 6.0))]
    loads = []
    real = VLLMBackend.load.__func__
    monkeypatch.setattr(VLLMBackend, "load", classmethod(lambda cls, s, o: loads.append(s) or real(cls, s, o)))

    def manifest(results):
        path = tmp_path / f"{results}.yaml"
        path.write_text("tasks: [mini_writing]\nmetrics: [distinct_n]\ngeneration: {n: 2, max_new_tokens: 6}\n"
                        "backend: vllm\nbackend_options: {dtype: float32, enforce_eager: true, max_model_len: 512}\n"
                        f"results: {tmp_path / results}\nschedules:\n  s:\n    checkpoints:\n"
                        + "".join(f"      - {{path: {p}, step: {i}}}\n" for i, p in enumerate(paths)))
        return load_manifest(path)

    assert sweep(manifest("swapped")).generated == 3 and len(loads) == 1  # one engine, weights swapped twice
    assert sweep(manifest("fresh"), reuse_engines=False).generated == 3 and len(loads) == 4
    a, b = Store(tmp_path / "swapped"), Store(tmp_path / "fresh")
    assert a.cells() == b.cells() and len(a.cells()) == 3
    for key in a.cells():
        ta, tb = a.read_generations(key)[0], b.read_generations(key)[0]
        assert ta["token_ids"].equals(tb["token_ids"]) and ta["text"].equals(tb["text"])


def test_the_probe_on_vllm_keeps_one_engine_per_checkpoint(sharp, tmp_path, monkeypatch):
    from creval.backends.vllm import VLLMBackend
    from creval.probe import probe
    from creval.store import Store

    loads = []
    real = VLLMBackend.load.__func__
    monkeypatch.setattr(VLLMBackend, "load", classmethod(lambda cls, s, o: loads.append(s) or real(cls, s, o)))
    options = {"dtype": "float32", "enforce_eager": True, "max_model_len": 512}
    report = probe([("sharp", str(sharp))], ["mini_math"], GenerationConfig(n=2, max_new_tokens=6),
                   sigmas=[0.001, 0.1], seeds=[0, 1], backend="vllm", options=options,
                   statistics=["agreement", "pass@1"], out=str(tmp_path / "r"))
    assert len(loads) == 1  # the unperturbed cells and four perturbations on one engine
    model = report["models"][0]
    assert model["backend"].startswith("vllm/1:dtype=float32")
    agreement = model["curves"]["mini_math"]["agreement"]
    assert agreement["unperturbed"]["mean"] == 1.0
    assert agreement["points"][1]["value"]["mean"] < agreement["points"][0]["value"]["mean"] <= 1.0
    signatures = {Store(tmp_path / "r").read_generations(k)[1]["backend_signature"] for k in Store(tmp_path / "r").cells()}
    assert {s.partition(":perturb=")[2] for s in signatures} == {"", "0.001:0", "0.001:1", "0.1:0", "0.1:1"}
