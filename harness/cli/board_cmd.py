"""``creval leaderboard build`` and ``creval compare``."""
from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction) -> None:
    lb = sub.add_parser("leaderboard", help="build a leaderboard site from a results directory",
                        description="Leaderboards per schedule from the store alone.")
    lb_sub = lb.add_subparsers(dest="leaderboard_command", required=True, metavar="ACTION")
    b = lb_sub.add_parser("build", help="tables, trajectory analysis, plots, a static site",
                          description="Write leaderboard.json/.csv/.md, PNG plots and a static index.html (no network).")
    b.add_argument("--results", required=True, type=Path, help="results directory")
    b.add_argument("--manifest", required=True, type=Path, help="the sweep manifest that names schedules and steps")
    b.add_argument("--out", required=True, type=Path, help="site directory to write")
    b.add_argument("--entropy-threshold", type=float, default=0.5, help="collapse step: entropy below this (nats)")
    c = sub.add_parser("compare", help="paired comparison of two runs, with regression gates for CI",
                       description="Compare CANDIDATE with BASELINE (results or cell directories) prompt by prompt. "
                       "Exit 0: no gate crossed; 1: a significant regression beyond a gate; 2: bad input.")
    c.add_argument("baseline", type=Path)
    c.add_argument("candidate", type=Path)
    c.add_argument("--max-drop", action="append", default=[], metavar="STAT=VALUE",
                   help="gate: fail when STAT drops by more than VALUE, significantly (repeatable)")
    c.add_argument("--markdown", type=Path, help="also write the summary as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
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
