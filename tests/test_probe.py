"""The weight-perturbation probe: deterministic noise, perturbed cells apart from the checkpoint's, and
a probe that tells a sharp checkpoint from a smooth one computing the same function."""
import json

import pytest

from creval.backends.hf import HFBackend
from creval.cli.main import main
from creval.errors import CrevalError
from creval.jsonsafe import finite
from creval.perturb import Perturbation
from creval.probe import probe
from creval.records import GenerationConfig
from creval.signature import comparable
from creval.store import Store

CONFIG = GenerationConfig(n=2, max_new_tokens=6)


@pytest.fixture(scope="module")
def fragile_ckpt(tiny_ckpt, tmp_path_factory):
    from tiny import fragile

    return fragile(tiny_ckpt, tmp_path_factory.mktemp("ckpt") / "fragile", 10.0)


def _weights(ckpt, perturb=None):
    options = {"device": "cpu", **({"perturb": perturb} if perturb else {})}
    engine = HFBackend.load(HFBackend.resolve(str(ckpt), options), options)
    return {n: p.detach().clone() for n, p in engine.model.named_parameters()}


def test_noise_is_deterministic_per_seed_relative_and_selectable(tiny_ckpt):
    plain = _weights(tiny_ckpt)
    a, again, other = _weights(tiny_ckpt, "0.01:3"), _weights(tiny_ckpt, "0.01:3"), _weights(tiny_ckpt, "0.01:4")
    name = "transformer.h.0.mlp.c_fc.weight"
    assert all((a[n] == again[n]).all() for n in a)
    assert not (a[name] == other[name]).all()
    noise = a[name] - plain[name]
    relative = float(noise.pow(2).mean().sqrt() / plain[name].pow(2).mean().sqrt())
    assert 0.009 < relative < 0.011  # sigma of the tensor's RMS
    only = _weights(tiny_ckpt, "0.01:3:transformer.h.1.*")
    assert (only[name] == plain[name]).all()
    assert not (only["transformer.h.1.mlp.c_fc.weight"] == plain["transformer.h.1.mlp.c_fc.weight"]).all()
    with pytest.raises(CrevalError, match="matches no parameter"):
        _weights(tiny_ckpt, "0.01:3:nothing.*")
    for bad in ("0.01", "x:1", "-0.1:0", "0.01:0:a|b"):
        with pytest.raises(CrevalError):
            Perturbation.parse(bad)


def test_in_place_perturbation_is_the_loaded_one_and_undoes_exactly(tiny_ckpt):
    engine = HFBackend.load(HFBackend.resolve(str(tiny_ckpt), {}), {"device": "cpu"})
    current = lambda: {n: p.detach().clone() for n, p in engine.model.named_parameters()}  # noqa: E731
    plain = current()
    for label in ("0.01:3", "0.03:1:transformer.h.1.*", "0.01:3"):  # switching undoes the previous one first
        engine.perturb(label)
        loaded = _weights(tiny_ckpt, label)
        assert all(torch_equal(current()[n], loaded[n]) for n in plain)
    engine.perturb(None)
    assert all(torch_equal(current()[n], plain[n]) for n in plain)  # bit for bit
    perturbed = HFBackend.load(HFBackend.resolve(str(tiny_ckpt), {}), {"device": "cpu", "perturb": "0.01:0"})
    with pytest.raises(CrevalError, match="loaded perturbed"):
        perturbed.perturb(None)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


def test_probe_separates_a_sharp_checkpoint_from_a_smooth_one(tmp_path, tiny_ckpt, fragile_ckpt, monkeypatch):
    out = tmp_path / "results"
    models = [("smooth", str(tiny_ckpt)), ("sharp", str(fragile_ckpt))]
    report = probe(models, ["mini_math"], CONFIG, sigmas=[0.003], seeds=[0, 1],
                   statistics=["agreement", "token_entropy_model"], out=str(out))
    smooth, sharp = (m["curves"]["mini_math"] for m in report["models"])
    # the same function: unperturbed, the two sample the same entropies
    assert smooth["token_entropy_model"]["unperturbed"]["mean"] == pytest.approx(
        sharp["token_entropy_model"]["unperturbed"]["mean"], abs=1e-5)
    assert smooth["agreement"]["area"]["mean"] > sharp["agreement"]["area"]["mean"] + 0.3
    row = next(r for r in report["comparisons"] if r["statistic"] == "agreement")
    assert row["testable"] and row["high"] < 0 and row["p_two_sided_holm"] < 0.05
    assert json.loads(open(report["path"]).read())["models"][1]["model"] == "sharp"

    # perturbed cells are stored apart, signed perturb:sigma:seed; the checkpoint's own cells are not
    store = Store(out)
    sigs = {}
    for key in store.cells():
        _, meta = store.read_generations(key)
        sigs.setdefault(meta["backend_signature"].partition(":perturb=")[2], []).append(key)
    assert set(sigs) == {"", "0.003:0", "0.003:1"}
    assert all(len(keys) == 2 for keys in sigs.values())  # one cell per checkpoint
    from creval.leaderboards.collect import read_cell

    plain = read_cell(store, sigs[""][0]).signatures["pass@1"]
    perturbed = read_cell(store, sigs["0.003:1"][0]).signatures["pass@1"]
    assert "perturb" not in plain and "|perturb:0.003:1|" in perturbed
    assert comparable(plain, perturbed) == (False, "perturb: (absent) vs 0.003:1")

    # a second probe reads every cell back (no engine is loaded): the same report
    monkeypatch.setattr(HFBackend, "load", lambda *a: pytest.fail("regenerated a stored cell"))
    again = probe(models, ["mini_math"], CONFIG, sigmas=[0.003], seeds=[0, 1],
                  statistics=["agreement", "token_entropy_model"], out=str(out))
    assert finite(again["models"]) == finite(report["models"])


def test_cli_probe_json_and_bad_input(capsys, tmp_path, tiny_ckpt):
    out = tmp_path / "r"
    code = main(["probe", "perturb", "--model", f"base={tiny_ckpt}", "--tasks", "mini_math", "--sigma", "0.01",
                 "--seeds", "0", "--n", "1", "--max-new-tokens", "4", "--out", str(out), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["models"][0]["model"] == "base" and report["sigmas"] == [0.01]
    assert set(report["models"][0]["curves"]["mini_math"]) == {"agreement", "pass@1", "token_entropy_model", "distinct-2"}
    for argv, message in [(["--sigma", "-1"], "expected comma-separated numbers > 0"),
                          (["--layers", "nothing.*"], "matches no parameter"),
                          (["--statistic", "pass@9"], "statistic(s) ['pass@9'] not computed")]:
        code = main(["probe", "perturb", "--model", str(tiny_ckpt), "--tasks", "mini_math", "--seeds", "0", "--n", "1",
                     "--max-new-tokens", "4", "--out", str(out), *argv])
        assert code == 2 and message in capsys.readouterr().err
    fresh = tmp_path / "fresh"  # a glob naming no parameter is refused before anything is generated
    assert main(["probe", "perturb", "--model", str(tiny_ckpt), "--layers", "nothing.*", "--out", str(fresh)]) == 2
    assert "matches no parameter" in capsys.readouterr().err and not list(fresh.glob("cells/*"))
    for argv, message in [(["--backend-option", "perturb=0.1:0"], "sets the perturb option itself"),
                          (["--tasks", " , "], "expected comma-separated task specs"),
                          (["--backend-option", "nope=1"], "the hf backend has no option 'nope'"),
                          (["--backend", "vllm", "--device", "cpu"], "--device does not apply to the vllm backend"),
                          (["--dtype", "float16", "--backend-option", "dtype=float32"], "dtype is given twice"),
                          (["--backend", "openai"], "invalid choice: 'openai'")]:
        code = main(["probe", "perturb", "--model", str(tiny_ckpt), "--out", str(out), *argv])
        assert code == 2 and message in capsys.readouterr().err
    assert main(["probe", "perturb"]) == 2 and "give --model" in capsys.readouterr().err
    with pytest.raises(CrevalError, match="cannot perturb weights in place"):
        probe([("a", str(tiny_ckpt))], ["mini_math"], CONFIG, sigmas=[0.01], seeds=[0], backend="replay")


def test_cli_probe_takes_each_schedules_last_checkpoint_from_a_manifest(capsys, tmp_path, tiny_ckpt, sharp_ckpt):
    manifest = tmp_path / "sweep.yaml"
    manifest.write_text(f"tasks: [mini_math]\nresults: {tmp_path / 'results'}\nschedules:\n  only:\n    checkpoints:\n"
                        f"      - {{path: {tiny_ckpt}, step: 0}}\n      - {{path: {sharp_ckpt}, step: 100}}\n")
    code = main(["probe", "perturb", "--manifest", str(manifest), "--sigma", "0.01", "--seeds", "0", "--n", "1",
                 "--max-new-tokens", "4", "--statistic", "agreement", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["tasks"] == ["mini_math"]  # the manifest's tasks
    assert [(m["model"], m["checkpoint"]) for m in report["models"]] == [("only", str(sharp_ckpt))]
    assert report["path"].startswith(str(tmp_path / "results" / "probes"))  # the manifest's results


def test_cli_probe_odd_inputs(capsys, tmp_path, tiny_ckpt):
    """A writing task under the default statistics, seeds given twice, undefined intervals in the table,
    all-zero tensors selected, weights that overflow, an empty checkpoint path."""
    out = tmp_path / "r"
    common = ["probe", "perturb", "--model", str(tiny_ckpt), "--n", "1", "--max-new-tokens", "2", "--out", str(out)]
    code = main([*common, "--tasks", "mini_writing", "--sigma", "0.01", "--seeds", "0,0", "--json"])
    text = capsys.readouterr().out
    report = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert code == 0 and report["seeds"] == [0]  # the same seed twice is one draw, not two
    assert report["statistics"] == ["agreement", "token_entropy_model", "distinct-2"]  # no pass@1 for writing
    assert main([*common, "--tasks", "mini_writing", "--sigma", "0.01", "--seeds", "0"]) == 0
    printed = capsys.readouterr().out
    assert "1 noise seeds" in printed and "nan" not in printed  # distinct-2 has no variation: no interval shown
    for argv, message in [(["--layers", "*.bias"], "selects only all-zero tensors"),
                          (["--sigma", "1e30"], "logits are NaN or infinite")]:
        code = main([*common, "--tasks", "mini_math", "--seeds", "7", *argv])
        assert code == 2 and message in capsys.readouterr().err
    assert main(["probe", "perturb", "--model", "a="]) == 2 and "give a checkpoint path" in capsys.readouterr().err
