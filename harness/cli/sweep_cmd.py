"""``creval sweep`` and ``creval status``: thin wrappers over ``creval.sweep``."""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from . import export_cmd
from .args import nonnegative_float, output_file, positive_float, positive_int


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="evaluate every checkpoint of every schedule of a manifest",
                       description="Evaluate the cells of a sweep manifest that are missing from the store; "
                       "interrupted sweeps resume where they stopped. Exit 1 if a checkpoint failed.")
    p.add_argument("manifest", help="sweep manifest (YAML)")
    p.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    p.add_argument("--watch", action="store_true", help="keep polling for new checkpoints (Ctrl-C stops)")
    p.add_argument("--interval", type=positive_float, default=60.0, help="--watch: seconds between polls (default 60)")
    p.add_argument("--settle", type=nonnegative_float, default=None,
                   help="a discovered checkpoint counts once unchanged this many seconds (default 0; 30 with --watch)")
    p.add_argument("--max-polls", type=positive_int, help="--watch: stop after this many polls")
    p.add_argument("--executor", choices=("local", "ray"), default="local", help="local (default) or ray")
    p.add_argument("--address", help="ray: cluster address (default: start a local one)")
    p.add_argument("--gpus-per-task", type=nonnegative_float, default=0, help="ray: GPUs per checkpoint task")
    p.add_argument("--json", action="store_true", help="print the summary (or the plan) as JSON")
    export_cmd.add_sweep_options(p)
    s = sub.add_parser("status", help="show which cells of a sweep are done, missing or failed",
                       description="The matrix of schedules x steps x tasks of a sweep manifest: done, partial "
                       "(interrupted: grades or scores missing), corrupt (a damaged file), missing, failed (with the reason).")
    s.add_argument("manifest", help="sweep manifest (YAML)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--markdown", type=output_file, metavar="FILE",
                   help="also append the matrix as Markdown tables to FILE (e.g. $GITHUB_STEP_SUMMARY)")


def run_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..errors import CrevalError
    from ..manifest import load_manifest
    from ..sweep import plan, sweep, watch
    from .render import to_json

    manifest = load_manifest(args.manifest, watching=args.watch)
    console = Console()
    settle = args.settle if args.settle is not None else (30.0 if args.watch else 0.0)
    if not args.watch and not any(s.checkpoints(settle) for s in manifest.schedules):
        raise CrevalError(f"{args.manifest}: no checkpoint to evaluate: the discover folders hold no complete "
                          "checkpoint yet (--watch waits for them)")
    if args.dry_run:
        todo = [c for c in plan(manifest, settle) if c.state != "done"]
        if args.json:
            print(to_json([asdict(c) for c in todo]))
        else:
            for c in todo:
                console.print(f"would run {c.schedule} step {c.step} {c.task} ({c.checkpoint})", highlight=False)
            console.print(f"{len(todo)} cells to run")
        return 0
    options = {"executor": args.executor, "address": args.address, "gpus_per_task": args.gpus_per_task,
               "progress": sys.stderr.isatty() and not args.json,
               "on_checkpoint": None if args.json else
               (lambda c, outcome: console.print(f"  {c.schedule} step {c.step}: {outcome}", highlight=False))}
    if args.watch:
        summary = watch(manifest, interval=args.interval, settle=settle, max_polls=args.max_polls, **options)
    else:
        summary = sweep(manifest, settle=settle, **options)
    if args.json:
        exports = export_cmd.after_sweep(args, manifest.results)
        print(to_json({**asdict(summary), **({"exports": exports} if exports else {})}))
    else:
        console.print(f"sweep: {summary.generated} cells generated, {summary.cached} already stored, "
                      f"{len(summary.failed)} checkpoints failed")
        for f in summary.failed:
            console.print(f"  failed: {f['schedule']} step {f['step']}: {f['reason']}", highlight=False, markup=False)
        export_cmd.after_sweep(args, manifest.results)
    return 1 if summary.failed else 0


def run_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..manifest import load_manifest
    from ..sweep import plan
    from .render import to_json

    manifest = load_manifest(args.manifest)
    cells = plan(manifest)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as fh:
            fh.write(status_markdown(cells))
    if args.json:
        print(to_json([asdict(c) for c in cells]))
        return 0
    console = Console()
    marks = {"done": "[green]done[/]", "partial": "[yellow]partial[/]", "corrupt": "[red]corrupt[/]",
             "missing": "[yellow]missing[/]", "failed": "[red]failed[/]"}
    tasks = list(dict.fromkeys(c.task for c in cells))
    for schedule in dict.fromkeys(c.schedule for c in cells):
        table = Table(title=f"schedule {schedule}", title_justify="left")
        for col in ("step", "stage", *tasks):
            table.add_column(col)
        rows = [c for c in cells if c.schedule == schedule]
        for step in sorted({c.step for c in rows}):
            here = {c.task: c for c in rows if c.step == step}
            table.add_row(str(step), here[tasks[0]].stage or "", *(marks[here[t].state] for t in tasks))
        console.print(table)
    for c in cells:
        if c.state == "failed" and c.task == tasks[0]:
            console.print(f"  {c.schedule} step {c.step}: {c.reason}", highlight=False, markup=False)
        elif c.state in ("partial", "corrupt"):
            console.print(f"  {c.schedule} step {c.step} {c.task}: {c.state}: {c.reason}", highlight=False, markup=False)
    counts = {s: sum(c.state == s for c in cells) for s in marks}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))
    if counts["partial"] or counts["corrupt"]:
        console.print("`creval sweep` completes partial cells without regenerating them; "
                      "`creval store verify --repair RESULTS` sets corrupt ones aside", highlight=False, markup=False)
    return 0


def status_markdown(cells: list) -> str:
    """The status matrix as GitHub-flavoured Markdown: a table per schedule, then the counts."""
    tasks = list(dict.fromkeys(c.task for c in cells))
    lines = []
    for schedule in dict.fromkeys(c.schedule for c in cells):
        rows = [c for c in cells if c.schedule == schedule]
        lines += [f"#### schedule {schedule}", "", "| step | stage | " + " | ".join(tasks) + " |",
                  "|---:|---|" + "---|" * len(tasks)]
        for step in sorted({c.step for c in rows}):
            here = {c.task: c for c in rows if c.step == step}
            lines.append(f"| {step} | {here[tasks[0]].stage or ''} | " + " | ".join(here[t].state for t in tasks) + " |")
        lines.append("")
    states = ("done", "partial", "corrupt", "missing", "failed")
    lines.append(", ".join(f"{sum(c.state == s for c in cells)} {s}" for s in states))
    return "\n".join(lines) + "\n\n"
