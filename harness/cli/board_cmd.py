"""``creval leaderboard build`` and ``creval compare``."""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from .args import finite_float, output_dir, output_file, positive_int, text_file


def gate(text: str) -> str:
    """``STAT=VALUE`` with VALUE a finite number >= 0 (the parsing itself stays with ``compare``)."""
    name, eq, raw = text.partition("=")
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (eq and name and value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected STATISTIC=NUMBER with a finite NUMBER >= 0, e.g. pass@1=0.02; got {text!r}")
    return text


def add_parsers(sub: argparse._SubParsersAction) -> None:
    lb = sub.add_parser("leaderboard", help="build a leaderboard site from a results directory",
                        description="Leaderboards per schedule from the store alone.")
    lb_sub = lb.add_subparsers(dest="leaderboard_command", required=True, metavar="ACTION")
    b = lb_sub.add_parser("build", help="tables, trajectory analysis, plots, a static site",
                          description="Write leaderboard.json/.csv/.md, PNG plots and a static index.html (no network).")
    b.add_argument("--results", required=True, type=Path, help="results directory")
    b.add_argument("--manifest", required=True, type=Path, help="the sweep manifest that names schedules and steps")
    b.add_argument("--out", required=True, type=output_dir, help="site directory to write")
    b.add_argument("--entropy-threshold", type=finite_float, default=0.5, help="collapse step: entropy below this (nats)")
    bs = sub.add_parser("best", help="the best checkpoint of each schedule on a held-out statistic",
                        description="Per schedule, the best checkpoint on STATISTIC of TASK (ties within the best's 95% "
                        "interval go to the earlier step), and with --rewards the steps where training reward rose "
                        "while the statistic fell.")
    bs.add_argument("--results", required=True, type=Path)
    bs.add_argument("--manifest", required=True, type=Path)
    bs.add_argument("--metric", required=True, help="a statistic, e.g. pass@1")
    bs.add_argument("--task", required=True, help="the held-out task (its label)")
    bs.add_argument("--rewards", type=text_file, help="training reward CSV exported from wandb / TensorBoard")
    bs.add_argument("--window", type=positive_int, default=50, help="reward: mean over the last WINDOW steps (default 50)")
    bs.add_argument("--json", action="store_true")
    c = sub.add_parser("compare", help="paired comparison of two runs, with regression gates for CI",
                       description="Compare CANDIDATE with BASELINE (results or cell directories) prompt by prompt. "
                       "Exit 0: no gate crossed; 1: a significant regression beyond a gate; 2: bad input.")
    c.add_argument("baseline", type=Path)
    c.add_argument("candidate", type=Path)
    c.add_argument("--max-drop", type=gate, action="append", default=[], metavar="STAT=VALUE",
                   help="gate: fail when STAT drops by more than VALUE, significantly (repeatable)")
    c.add_argument("--markdown", type=output_file, help="also write the summary as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    c.add_argument("--json", action="store_true", help="print JSON")


def run_leaderboard(args: argparse.Namespace) -> int:
    from creval.leaderboards.build import build

    board = build(args.results, args.manifest, args.out, entropy_threshold=args.entropy_threshold)
    print(f"leaderboard: {len(board['rows'])} values, {len(board['schedules'])} schedules -> {args.out / 'index.html'}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from creval.leaderboards.compare import compare, markdown, parse_gates

    from .render import to_json

    diffs = compare(args.baseline, args.candidate, parse_gates(args.max_drop))
    text = markdown(diffs)
    if args.markdown:
        with open(args.markdown, "a") as fh:
            fh.write(text)
    print(to_json([{**asdict(d), "crossed": d.crossed} for d in diffs]) if args.json else text, end="" if not args.json else "\n")
    return 1 if any(d.crossed for d in diffs) else 0


def run_best(args: argparse.Namespace) -> int:
    from creval.errors import CrevalError
    from creval.leaderboards.best import Point, best_checkpoint, divergences, read_rewards
    from creval.leaderboards.collect import read_results
    from creval.manifest import load_manifest
    from creval.sweep import plan

    from .render import to_json

    manifest = load_manifest(args.manifest)
    cells = {c.key: c for c in read_results(args.results)}
    rewards = read_rewards(args.rewards) if args.rewards else None
    report = []
    for schedule in manifest.schedules:
        points = []
        for p in plan(manifest):
            if p.schedule == schedule.name and p.task == args.task and p.state == "done" and p.key in cells:
                cell = cells[p.key]
                if args.metric not in cell.values:
                    raise CrevalError(f"{args.task} has no statistic {args.metric!r}; it has {sorted(cell.values)}")
                points.append(Point(p.step, *cell.summary(args.metric)[:3]))
        if not points:
            continue
        best = best_checkpoint(points)
        entry = {"schedule": schedule.name, "best_step": best.step, "mean": best.mean, "ci_low": best.low, "ci_high": best.high,
                 "trajectory": [vars(p) for p in sorted(points, key=lambda p: p.step)]}
        if rewards is not None:
            entry["reward_up_metric_down"] = divergences(points, rewards, args.window)
        report.append(entry)
    if not report:
        raise CrevalError(f"no evaluated checkpoint has task {args.task!r} in {args.results}")
    if args.json:
        print(to_json(report))
        return 0
    for e in report:
        line = f"{e['schedule']}: best step {e['best_step']}  {args.metric} {e['mean']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]"
        if "reward_up_metric_down" in e and e["reward_up_metric_down"]:
            line += f"  (training reward rose while {args.metric} fell at steps {e['reward_up_metric_down']})"
        print(line)
    return 0
