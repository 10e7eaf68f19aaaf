"""``creval export tensorboard|wandb``, ``creval leaderboard push`` and ``creval sweep --export``:
thin wrappers over ``creval.leaderboards.export`` and ``creval.leaderboards.hub_dataset``."""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .args import output_dir

KINDS = ("tensorboard", "wandb")  # creval.leaderboards.export.KINDS, not imported here: the CLI starts fast
TAGS = ("scalars <prefix>/<task>/<statistic> (the leaderboard's value) and <prefix>_ci_low/..., <prefix>_ci_high/... "
        "(its 95% interval)")


def _add_options(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    """The export options; on ``sweep`` named --export-prefix and --wandb-* (same destinations)."""
    flag = {"prefix": "--export-prefix", "project": "--wandb-project", "entity": "--wandb-entity",
            "online": "--wandb-online"} if sweep else {k: f"--{k}" for k in ("prefix", "project", "entity", "online")}
    p.add_argument(flag["prefix"], dest="prefix", default="eval", help="first part of every scalar's name (default eval)")
    p.add_argument(flag["project"], dest="project", default="creval", help="wandb: project (default creval)")
    p.add_argument(flag["entity"], dest="entity", help="wandb: entity, a team or user (default: your default entity)")
    p.add_argument(flag["online"], dest="online", action="store_true",
                   help="wandb: log straight to the W&B server (needs `wandb login`); default: offline runs, "
                   "uploaded later by `wandb sync DIR/wandb/offline-run-*`")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="per-checkpoint scalars to TensorBoard or Weights & Biases",
                       description=f"One run per schedule with the training step as x-axis: {TAGS}; the "
                       "statistics' signatures as run config (wandb) or the text summary creval/run (tensorboard). "
                       "Needs pip install 'creval[export]'. See docs/exports.md.")
    p.add_argument("kind", choices=KINDS, help="tensorboard: event files, one folder per schedule; wandb: W&B runs")
    p.add_argument("--results", required=True, type=Path, help="results directory")
    p.add_argument("--manifest", required=True, type=Path, help="the sweep manifest that names schedules and steps")
    p.add_argument("--out", type=output_dir, help="folder to write (default: exports/KIND beside the results "
                   "directory); tensorboard: empty, or an earlier tensorboard export, which is replaced")
    _add_options(p)
    p.add_argument("--json", action="store_true", help="print the runs written as JSON")


def add_push_parser(lb_sub: argparse._SubParsersAction) -> None:
    p = lb_sub.add_parser("push", help="the leaderboard as a Hugging Face dataset (saved to disk and/or pushed)",
                          description="One row per schedule x step x task x statistic (the columns of leaderboard.csv) "
                          "as a `datasets` dataset: --to-disk saves it (datasets.load_from_disk reads it back), --repo "
                          "pushes it to the Hub (online; needs `huggingface-cli login` or HF_TOKEN). With "
                          "HF_HUB_OFFLINE=1 a push is skipped when --to-disk is given and refused otherwise.")
    p.add_argument("--results", required=True, type=Path, help="results directory")
    p.add_argument("--manifest", required=True, type=Path, help="the sweep manifest that names schedules and steps")
    p.add_argument("--repo", help="Hub dataset repository id, NAME or OWNER/NAME")
    p.add_argument("--to-disk", type=output_dir, metavar="DIR", help="save the dataset to this folder (Dataset.save_to_disk)")
    p.add_argument("--private", action="store_true", help="--repo: create the repository private")
    p.add_argument("--json", action="store_true", help="print what was done as JSON")


def add_sweep_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--export", action="append", choices=KINDS,
                   help="after the sweep completes, export the per-checkpoint scalars (as `creval export`; repeatable)")
    p.add_argument("--export-dir", type=output_dir, help="--export: folder to write into (default: exports/ beside the "
                   "results directory; each kind in its own subfolder)")
    _add_options(p, sweep=True)


def _default_out(results: Path) -> Path:
    return results.expanduser().resolve().parent / "exports"


def _export(kind: str, results: Path, manifest: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from ..leaderboards.export import export

    options: dict[str, Any] = {"prefix": args.prefix}
    if kind == "wandb":
        options.update(project=args.project, entity=args.entity, online=args.online)
    runs = export(kind, results, manifest, out, **options)
    return {"kind": kind, "out": str(out), "online": kind == "wandb" and args.online, "runs": [asdict(r) for r in runs]}


def _describe(report: dict[str, Any]) -> str:
    runs = ", ".join(f"{r['schedule']} ({r['scalars']} scalars, steps {r['steps'][0]}..{r['steps'][-1]})"
                     for r in report["runs"])
    where = f"tensorboard --logdir {report['out']}" if report["kind"] == "tensorboard" else (
        f"{report['out']}/wandb" + ("" if report["online"] else f"; upload: wandb sync {report['out']}/wandb/offline-run-*"))
    return f"{report['kind']}: {len(report['runs'])} runs: {runs} -> {where}"


def run_export(args: argparse.Namespace) -> int:
    from .render import to_json

    out = args.out or _default_out(args.results) / args.kind
    report = _export(args.kind, args.results, args.manifest, out, args)
    print(to_json(report) if args.json else _describe(report))
    return 0


def after_sweep(args: argparse.Namespace, results: Path) -> list[dict[str, Any]]:
    """``sweep --export``: the exports asked for (none without --export); printed unless --json."""
    reports = []
    for kind in dict.fromkeys(args.export or []):
        out = (args.export_dir or _default_out(results)) / kind
        reports.append(_export(kind, results, Path(args.manifest), out, args))
        if not args.json:
            print(_describe(reports[-1]))
    return reports


def run_push(args: argparse.Namespace) -> int:
    from ..leaderboards.hub_dataset import check_request, leaderboard_dataset, publish
    from .render import to_json

    check_request(args.repo, args.to_disk)  # before the store is read
    report = publish(leaderboard_dataset(args.results, args.manifest), repo=args.repo, to_disk=args.to_disk,
                     private=args.private)
    if args.json:
        print(to_json(report))
        return 0
    if report["saved_to"]:
        print(f"saved {report['rows']} rows to {report['saved_to']} (datasets.load_from_disk reads it)")
    if report["pushed_to"]:
        print(f"pushed {report['rows']} rows to https://huggingface.co/datasets/{report['pushed_to']}")
    if report["skipped"]:
        print(f"skipped: {report['skipped']}")
    return 0
