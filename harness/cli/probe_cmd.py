"""``creval probe perturb``: the weight-perturbation probe (``creval.probe``), as a command."""
from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from ..errors import CrevalError
from .args import output_dir, positive_int
from .backend_args import collect, key_value


def _csv_of(kind: type, what: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        try:
            values = [kind(t.strip()) for t in text.split(",") if t.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}") from None
        if not values or any(isinstance(v, float) and not (math.isfinite(v) and v > 0) for v in values):
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}")
        return values

    parse.__name__ = what
    return parse


def add_parser(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("probe", help="probes beyond plain evaluation: weight perturbation",
                           description="Probes that evaluate a checkpoint under a controlled change (docs/probes.md).")
    probes = group.add_subparsers(dest="probe", required=True, metavar="PROBE")
    p = probes.add_parser(
        "perturb", help="degradation under relative Gaussian weight noise",
        description="Add Gaussian noise of relative scale sigma (of each tensor's RMS) to the weights, over several "
        "noise seeds, re-evaluate the tasks, and report per statistic the degradation curve and its area (the mean "
        "change over the sigma grid); several checkpoints are compared on their areas (paired test, Holm). Perturbed "
        "cells are stored apart (signature field perturb:SIGMA:SEED). Definitions: docs/probes.md.")
    p.add_argument("--model", action="append", default=[], metavar="[LABEL=]CKPT",
                   help="checkpoint, repeatable; the first is the baseline of the comparisons")
    p.add_argument("--backend", choices=("hf", "vllm"), default="hf",
                   help="engine whose weights are perturbed in place: hf (default) or vllm (one engine per checkpoint)")
    p.add_argument("--backend-option", action="append", type=key_value, metavar="KEY=VALUE",
                   help="a backend option, repeatable (e.g. enforce_eager=true); `creval backends` lists them")
    p.add_argument("--manifest", help="sweep manifest: probe the last checkpoint of each schedule (labelled by schedule)")
    p.add_argument("--tasks", type=_csv_of(str, "task specs"),
                   help="comma-separated task specs (default: the manifest's, else mini_math)")
    p.add_argument("--sigma", type=_csv_of(float, "numbers > 0"), default=[0.001, 0.003, 0.01, 0.03],
                   help="comma-separated relative noise scales (default 0.001,0.003,0.01,0.03)")
    p.add_argument("--seeds", type=_csv_of(int, "integers"), default=[0, 1, 2],
                   help="comma-separated noise seeds (default 0,1,2)")
    p.add_argument("--layers", help="glob over parameter names to perturb, e.g. 'transformer.h.1.*' (default: all)")
    p.add_argument("--metric", action="append", dest="metrics", metavar="SPEC",
                   help="metric spec, repeatable (default: pass_at_k:k=1, token_entropy, distinct_n:n=2)")
    p.add_argument("--statistic", action="append", dest="statistics", metavar="NAME",
                   help="statistic to report, repeatable (default: those of agreement, pass@1, token_entropy_model, distinct-2 "
                   "each task has)")
    p.add_argument("--n", type=positive_int, default=4, help="samples per prompt (default 4)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    p.add_argument("--max-new-tokens", type=positive_int, default=64, help="generation length limit (default 64)")
    p.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    p.add_argument("--out", type=output_dir, help="results directory (default: the manifest's, else ./results)")
    p.add_argument("--dtype", help="hf: float32 | bfloat16 | float16 (default float32); vllm: its dtype (default auto)")
    p.add_argument("--device", help="hf: cpu | cuda | cuda:N (default: cuda if available)")
    p.add_argument("--batch-size", type=positive_int, help="hf: sequences per forward batch (default 64)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _models(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[str] | None, str | None]:
    models = []
    for text in args.model:
        label, _, path = text.rpartition("=")
        if not path.strip():
            raise CrevalError(f"--model {text!r}: give a checkpoint path ([LABEL=]CKPT)")
        models.append((label or path, path))
    tasks = args.tasks
    out = str(args.out) if args.out else None
    if args.manifest:
        from ..manifest import load_manifest

        manifest = load_manifest(args.manifest)
        for schedule in manifest.schedules:
            found = schedule.checkpoints()
            if not found:
                raise CrevalError(f"{args.manifest}: schedule {schedule.name!r} has no checkpoint")
            models.append((schedule.name, str(found[-1].path)))
        tasks = tasks or manifest.tasks
        out = out or str(manifest.results)
    if not models:
        raise CrevalError("give --model CKPT (repeatable) or --manifest M")
    return models, tasks, out


def _num(value: float | None, spec: str = "+.3g") -> str:
    """A value of the table; an undefined one (NaN, None) reads 'n/a'."""
    return format(value, spec) if value is not None and math.isfinite(value) else "n/a"


def _range(row: dict) -> str:
    """' [low, high]', or '' where the interval is undefined (one prompt, no variation)."""
    low, high = row["low"], row["high"]
    return f" [{_num(low)}, {_num(high)}]" if low is not None and high is not None and math.isfinite(low) and math.isfinite(high) else ""


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..probe import DEFAULT_METRICS, probe
    from ..records import GenerationConfig
    from .render import to_json

    models, tasks, out = _models(args)
    config = GenerationConfig(n=args.n, temperature=args.temperature, max_new_tokens=args.max_new_tokens, seed=args.seed)
    options = collect(args.backend, backend_option=args.backend_option or (),
                      flags={"dtype": args.dtype, "device": args.device, "batch_size": args.batch_size})
    report = probe(models, tasks or ["mini_math"], config, sigmas=args.sigma, seeds=args.seeds, layers=args.layers,
                   metrics=args.metrics or DEFAULT_METRICS, statistics=args.statistics,
                   backend=args.backend, options=options, out=out or "results", progress=sys.stderr.isatty())
    if args.json:
        print(to_json(report))
        return 0
    console = Console()
    table = Table(title=f"weight-perturbation probe: change from the unperturbed checkpoint, sigma = {report['sigmas']}, "
                  f"{len(report['seeds'])} noise seeds", title_justify="left")
    for col in ("checkpoint", "task", "statistic", "unperturbed", "change at each sigma", "area [95% CI]"):
        table.add_column(col)
    for m in report["models"]:
        for task, stats in m["curves"].items():
            for stat, c in stats.items():
                area = c["area"]
                table.add_row(m["model"], task, stat, _num(c["unperturbed"]["mean"], ".3g"),
                              " ".join(_num(p["change"]["mean"]) for p in c["points"]), _num(area["mean"]) + _range(area))
    console.print(table)
    for row in report["comparisons"]:
        verdict = f"p = {_num(row['p_two_sided_holm'], '.3g')} (Holm)" if row["testable"] else f"not testable: {row['reason']}"
        console.print(f"{row['candidate']} - {row['baseline']}, {row['task']} {row['statistic']} area: "
                      f"{_num(row['difference'])}{_range(row)}, {verdict}", highlight=False)
    console.print(f"report: {report['path']}", soft_wrap=True)
    return 0
