"""The weight-perturbation probe (``creval probe perturb``): how fast a checkpoint's behaviour degrades
under relative Gaussian weight noise (``creval.perturb``), after "Questioning Representational
Optimism" (Kumar et al. 2025, arXiv 2505.11581): networks that reach the same outputs with fractured,
entangled representations are more fragile under small weight perturbations.

For each checkpoint, each task, each noise scale sigma of the grid and each noise seed, the perturbed
weights are evaluated like any checkpoint (their own cells: backend signature ``perturb=sigma:seed``,
metric signature field ``perturb:sigma:seed``); the unperturbed checkpoint is evaluated too (sigma 0).
Per prompt p and statistic s (pass@1, token entropy, distinct-2 ... and ``agreement``, the share of p's
samples whose tokens are identical to the unperturbed checkpoint's sample of the same seed):

* ``change(sigma, p)`` = mean over seeds of s(sigma, seed, p) - s(0, p): the degradation curve is its
  mean over prompts, with the statistics core's interval (``creval.stats.mean_interval``);
* ``area(p)`` = the trapezoid integral of change(., p) over [0, sigma_max] (change 0 at sigma 0),
  divided by sigma_max: the mean change over the grid, in the statistic's units; the reported area is
  its mean over prompts with its interval. A fragile checkpoint has a larger |area| (agreement and
  pass@1: more negative);
* checkpoints are compared on the per-prompt areas with the paired test (``creval.stats.paired``),
  each against the first, Holm-adjusted over the comparisons of a report.

One engine is loaded per checkpoint (the hf or the vllm backend); each perturbation is added in place
to the unperturbed weights and undone exactly before the next (hf: the changed tensors are kept aside
on the CPU; vllm: the perturbed weights are made on a CPU copy exactly as hf makes them and reloaded into
the running engine, the checkpoint's own reloaded from disk).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import registry
from .engines import EngineCache
from .errors import CrevalError
from .hashing import stable_hash
from .jsonsafe import finite
from .perturb import Perturbation
from .records import GenerationConfig
from .runner import load_tasks, run
from .stats import holm, mean_interval, paired
from .store import Store

DEFAULT_METRICS = ("pass_at_k:k=1", "token_entropy", "distinct_n:n=2")
DEFAULT_STATISTICS = ("agreement", "pass@1", "token_entropy_model", "distinct-2")
AGREEMENT = "agreement"


class _Engine(EngineCache):
    """The engine cache ``run`` is given: one loaded engine (hf or vllm) whose weights its backend puts
    under the wanted perturbation in place (loaded only when some cell has to be generated)."""

    def __init__(self, source: Any) -> None:
        super().__init__()
        self.source = source

    def get(self, backend_cls: Any, source: Any, options: Mapping[str, Any]) -> Any:
        if self.engine is None:
            self.engine = backend_cls.load(self.source, {k: v for k, v in options.items() if k != "perturb"})
            self.loads += 1
        self.engine.perturb(options.get("perturb"))
        return self.engine


def _check_layers(source: Any, perturbation: Perturbation) -> None:
    """Whether ``--layers`` names some parameter of the checkpoint's architecture, before anything is
    generated: the model built from its config on the meta device (no weights read, no memory)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from .backends import location

    try:
        config = AutoConfig.from_pretrained(location(source))
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except Exception:  # not loadable this way: the run says why, or the perturbation will
        return
    perturbation.selected(model)


def _values(store: Store, key: str) -> dict[str, dict[str, float]]:
    from creval.leaderboards.collect import read_cell

    return read_cell(store, key).values


def _agreement(store: Store, base_key: str, key: str) -> dict[str, float]:
    """Per prompt: the share of samples whose token ids equal the unperturbed sample with the same seed."""
    base, _ = store.read_generations(base_key)
    other, _ = store.read_generations(key)
    reference = {(r["prompt_id"], r["seed"]): r["token_ids"] for r in base.select(["prompt_id", "seed", "token_ids"]).to_pylist()}
    same: dict[str, list[float]] = {}
    for row in other.select(["prompt_id", "seed", "token_ids"]).to_pylist():
        same.setdefault(row["prompt_id"], []).append(float(reference.get((row["prompt_id"], row["seed"])) == row["token_ids"]))
    return {p: float(np.mean(v)) for p, v in same.items()}


def _interval(values: Sequence[float] | np.ndarray) -> dict[str, float | int]:
    mean, low, high, n = mean_interval(values).as_tuple()
    return {"mean": mean, "low": low, "high": high, "prompts": n}


def _curve(sigmas: Sequence[float], base: Mapping[str, float], runs: Mapping[float, list[Mapping[str, float]]]) -> dict[str, Any]:
    """One statistic of one task: the degradation curve over sigma and the per-prompt areas."""
    prompts = sorted(base)
    change = np.full((len(prompts), len(sigmas)), np.nan)
    for j, sigma in enumerate(sigmas):
        for i, p in enumerate(prompts):
            seen = [r.get(p, np.nan) for r in runs[sigma]]
            finite = [v for v in seen if np.isfinite(v)]
            if finite and np.isfinite(base[p]):
                change[i, j] = float(np.mean(finite)) - base[p]
    grid = np.array([0.0, *sigmas])
    with_zero = np.hstack([np.zeros((len(prompts), 1)), change])
    widths = np.diff(grid)
    areas = ((with_zero[:, 1:] + with_zero[:, :-1]) / 2 * widths).sum(axis=1) / grid[-1]
    points = [{"sigma": s, "change": _interval(change[:, j]),
               "value": _interval([base[p] + change[i, j] for i, p in enumerate(prompts)])} for j, s in enumerate(sigmas)]
    return {"unperturbed": _interval([base[p] for p in prompts]), "points": points, "area": _interval(areas),
            "area_per_prompt": dict(zip(prompts, (float(a) for a in areas)))}


def probe(models: Sequence[tuple[str, str]], tasks: Sequence[str], config: GenerationConfig, *, sigmas: Sequence[float],
          seeds: Sequence[int], layers: str | None = None, metrics: Sequence[str] = DEFAULT_METRICS,
          statistics: Sequence[str] | None = None, backend: str = "hf",
          options: Mapping[str, Any] | None = None, out: str = "results", progress: bool = False) -> dict[str, Any]:
    """Run the probe on ``models`` ((label, checkpoint) pairs); returns the report (also written to
    ``out/probes/perturb-<hash>.json``). ``statistics`` None: those of ``DEFAULT_STATISTICS`` each task has
    (a writing task has no pass@1); a statistic named that no task has is an error. A sigma or seed given
    twice counts once."""
    grid = sorted({float(s) for s in sigmas})
    seeds = list(dict.fromkeys(int(s) for s in seeds))
    defaults = statistics is None
    statistics = list(DEFAULT_STATISTICS if statistics is None else dict.fromkeys(statistics))
    if not grid or not seeds:
        raise CrevalError("the probe needs at least one sigma and one seed")
    perturbations = {s: [Perturbation(s, int(seed), layers) for seed in seeds] for s in grid}  # checks them
    labels = [label for label, _ in models]
    if len(set(labels)) != len(labels):
        raise CrevalError(f"checkpoint label given twice in {labels}")
    task_labels = [t.label for t in load_tasks(list(tasks))]
    options = dict(options or {})
    if options.get("perturb"):
        raise CrevalError("the probe sets the perturb option itself: leave it out of the backend options")
    backend_cls = registry.load("backends", backend)
    if not hasattr(backend_cls, "perturb"):
        raise CrevalError(f"the {backend} backend cannot perturb weights in place; the probe runs on hf or vllm")
    store = Store(out)
    reports: list[dict[str, Any]] = []
    sources = [backend_cls.resolve(checkpoint, options) for _, checkpoint in models]  # every path checked first
    if layers is not None:
        for source in sources:
            _check_layers(source, perturbations[grid[0]][0])
    for (label, checkpoint), source in zip(models, sources):
        engine = _Engine(source)
        try:
            base = run(checkpoint, tasks, config, backend=backend, backend_options=options, metrics=metrics, out=out,
                       engines=engine, progress=progress)
            runs = {s: [run(checkpoint, tasks, config, backend=backend, backend_options={**options, "perturb": pert.label},
                            metrics=metrics, out=out, engines=engine, progress=progress) for pert in perturbations[s]]
                    for s in grid}
        finally:
            engine.close()
        curves: dict[str, dict[str, Any]] = {}
        for t, base_cell in zip(task_labels, base.cells):
            cells = {s: [next(c for c in r.cells if c.task == t) for r in runs[s]] for s in grid}
            base_values = _values(store, base_cell.cell_key)
            base_values[AGREEMENT] = {p: 1.0 for p in next(iter(base_values.values()), {})}
            by_sigma = {s: [{**_values(store, c.cell_key), AGREEMENT: _agreement(store, base_cell.cell_key, c.cell_key)}
                            for c in cells[s]] for s in grid}
            curves[t] = {stat: _curve(grid, base_values[stat], {s: [v.get(stat, {}) for v in by_sigma[s]] for s in grid})
                         for stat in statistics if stat in base_values}
        absent = [s for s in statistics if not any(s in c for c in curves.values())]
        if absent and not defaults:  # the cells are stored: a second probe with other statistics reads them back
            known = sorted({s for t in task_labels for s in _values(store, base.cells[task_labels.index(t)].cell_key)})
            raise CrevalError(f"statistic(s) {absent} not computed by the metrics given; available: {', '.join(known)}, agreement")
        reports.append({"model": label, "checkpoint": checkpoint, "fingerprint": base.fingerprint,
                        "backend": base.backend, "curves": curves})
    reported = [s for s in statistics if any(s in c for m in reports for c in m["curves"].values())]
    report = {"probe": "perturb", "sigmas": grid, "seeds": seeds, "layers": layers or "all",
              "tasks": task_labels, "statistics": reported, "config": config.to_dict(), "models": reports,
              "comparisons": _comparisons(reports)}
    identity = {k: report[k] for k in ("sigmas", "seeds", "layers", "tasks", "config")}
    identity["models"] = [(m["model"], m["fingerprint"], m["backend"]) for m in reports]
    path = store.root / "probes" / f"perturb-{stable_hash(identity, 12)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(finite(report), indent=1, allow_nan=False))
    report["path"] = str(path)
    return report


def _comparisons(reports: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each checkpoint's per-prompt areas against the first's, paired; Holm over all rows."""
    rows: list[dict[str, Any]] = []
    if len(reports) < 2:
        return rows
    first = reports[0]
    for other in reports[1:]:
        for task, stats in first["curves"].items():
            for stat, curve in stats.items():
                theirs = other["curves"].get(task, {}).get(stat)
                if theirs is None:
                    continue
                result = paired(curve["area_per_prompt"], theirs["area_per_prompt"])
                rows.append({"task": task, "statistic": stat, "baseline": first["model"], "candidate": other["model"],
                             "difference": result.difference, "low": result.low, "high": result.high,
                             "p_lower": result.p_lower, "p_higher": result.p_higher, "prompts": result.prompts,
                             "testable": result.testable, "reason": result.reason})
    adjusted = holm([min(1.0, 2 * min(r["p_lower"], r["p_higher"])) for r in rows])
    for row, p in zip(rows, adjusted):
        row["p_two_sided_holm"] = p
    return rows
