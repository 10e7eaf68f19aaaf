"""``creval leaderboard build`` and ``creval compare``."""
from __future__ import annotations

import argparse
import logging
import math
from dataclasses import asdict
from pathlib import Path

from . import export_cmd
from .args import nonnegative_float, output_dir, output_file, positive_int, text_file


def _threshold(text: str) -> tuple[float, bool]:
    """``0.3`` (nats) or ``50%`` (of the first checkpoint's entropy) -> (value, relative)."""
    relative = text.strip().endswith("%")
    try:
        value = float(text.strip().rstrip("%")) / (100 if relative else 1)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of nats or a percentage, got {text!r}")
    return value, relative


def add_parsers(sub: argparse._SubParsersAction) -> None:
    lb = sub.add_parser("leaderboard", help="build a leaderboard site from a results directory",
                        description="Leaderboards per schedule from the store alone.")
    lb_sub = lb.add_subparsers(dest="leaderboard_command", required=True, metavar="ACTION")
    b = lb_sub.add_parser("build", help="tables, trajectory analysis, plots, a static site",
                          description="Write leaderboard.json/.csv/.md, PNG plots and a static index.html (no network). "
                          "Probe and recommendation reports stored under --results (probes/perturb-*.json, "
                          "recommendations/*.json) are shown too: a Probes tab and a section of leaderboard.md.")
    b.add_argument("--results", required=True, type=Path, help="results directory")
    b.add_argument("--manifest", required=True, type=Path, help="the sweep manifest that names schedules and steps")
    b.add_argument("--out", required=True, type=output_dir, help="site directory to write")
    b.add_argument("--json", action="store_true", help="print what was built (files, schedules, values, cells not done) as JSON")
    b.add_argument("--entropy-threshold", type=_threshold, default=(0.5, True), metavar="NATS|PERCENT",
                   help="collapse step: entropy below this many nats, or below this share of the first checkpoint's "
                   "entropy when given as a percentage (default 50%%)")
    export_cmd.add_push_parser(lb_sub)
    b.add_argument("--diversity", metavar="STAT", default=None,
                   help="the writing diversity statistic of the tables, plots, creativity retention, backward transfer "
                   "and the Pareto front, e.g. distinct-1 (default: the first of distinct-2, distinct-1, distinct-3, "
                   "ead-2, ead-1, embedding-diversity, distinct-2-li, distinct-1-li defined at every checkpoint of "
                   "every writing task)")
    bs = sub.add_parser("best", help="the checkpoint to ship from each schedule, on a held-out statistic",
                        description="Per schedule, the checkpoint that scores best on STATISTIC of TASK on half of the "
                        "prompts (an earlier one instead when a paired test shows it within --tolerance of it), its "
                        "value on the other, held-out half, and with --rewards the steps where the training reward "
                        "rose while the statistic got significantly worse.")
    bs.add_argument("--results", required=True, type=Path)
    bs.add_argument("--manifest", required=True, type=Path)
    bs.add_argument("--metric", required=True, help="a statistic, e.g. pass@1")
    bs.add_argument("--task", required=True, help="the held-out task (its label)")
    bs.add_argument("--tolerance", type=nonnegative_float, default=0.01,
                    help="prefer an earlier checkpoint shown to be within this of the top one (default 0.01)")
    bs.add_argument("--seed", type=int, default=0, help="seed of the selection/held-out split of the prompts")
    bs.add_argument("--rewards", type=text_file, help="training reward CSV exported from wandb / TensorBoard")
    bs.add_argument("--window", type=positive_int, default=50, help="reward: mean over the last WINDOW steps (default 50)")
    bs.add_argument("--json", action="store_true")
    c = sub.add_parser("compare", help="paired comparison of two runs, with regression gates for CI",
                       description="Compare CANDIDATE with BASELINE (results or cell directories) prompt by prompt. "
                       "A gate is crossed when the candidate is worse by more than it and significantly so (sign-flip test, Holm "
                       "over the run's gates). Exit 0: no gate crossed; 1: a gate crossed; 2: bad input, including runs "
                       "that share fewer than --min-prompts prompts.")
    c.add_argument("baseline", type=Path)
    c.add_argument("candidate", type=Path)
    c.add_argument("--max-drop", action="append", default=[], metavar="STAT=VALUE",
                   help="gate: fail when STAT drops by more than VALUE, significantly (repeatable)")
    c.add_argument("--min-prompts", type=positive_int, default=10,
                   help="refuse (exit 2) when a task shares fewer prompts; rows with fewer paired values are "
                   "not testable (default 10)")
    c.add_argument("--no-correction", action="store_true",
                   help="test each gate at 2.5%% one-sided on its own (default: Holm over all gates of the run)")
    c.add_argument("--gate-cell-level", action="store_true",
                   help="also gate statistics computed once per cell (on the point difference: no interval)")
    c.add_argument("--markdown", type=output_file, help="also write the summary as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    c.add_argument("--json", action="store_true", help="print JSON")


def run_leaderboard(args: argparse.Namespace) -> int:
    if args.leaderboard_command == "push":
        return export_cmd.run_push(args)
    from creval.leaderboards.build import build

    value, relative = args.entropy_threshold
    board = build(args.results, args.manifest, args.out, entropy_threshold=value, relative=relative,
                  diversity=args.diversity)
    if board["incomplete"]:
        logging.getLogger("creval.cli").warning(
            "%d planned cells are not done (not in the leaderboard): run `creval sweep %s`, then `creval status %s`",
            len(board["incomplete"]), args.manifest, args.manifest)
    if args.json:
        from .render import to_json

        files = sorted(str(p) for p in args.out.iterdir() if p.is_file())
        print(to_json({"site": str(args.out / "index.html"), "files": files, "values": len(board["rows"]),
                       "schedules": board["schedules"], "incomplete": board["incomplete"]}))
        return 0
    print(f"leaderboard: {len(board['rows'])} values, {len(board['schedules'])} schedules -> {args.out / 'index.html'}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from creval.leaderboards.compare import compare, markdown, parse_gates

    from .render import to_json

    diffs = compare(args.baseline, args.candidate, parse_gates(args.max_drop), min_prompts=args.min_prompts,
                    correction=not args.no_correction, gate_cell_level=args.gate_cell_level)
    text = markdown(diffs, correction=not args.no_correction)
    if args.markdown:
        with open(args.markdown, "a") as fh:
            fh.write(text)
    print(to_json([{**asdict(d), "worse_by": d.worse_by} for d in diffs]) if args.json else text,
          end="" if not args.json else "\n")
    return 1 if any(d.crossed for d in diffs) else 0


def run_best(args: argparse.Namespace) -> int:
    from creval.errors import CrevalError
    from creval.leaderboards.best import choose, divergences, mean_of, read_rewards
    from creval.leaderboards.collect import read_results
    from creval.manifest import load_manifest
    from creval.sweep import placed

    from .render import to_json

    manifest = load_manifest(args.manifest)
    cells = {c.key: c for c in read_results(args.results)}
    rewards = read_rewards(args.rewards) if args.rewards else None
    report = []
    places = placed(manifest)
    for schedule in manifest.schedules:
        trajectory = {}
        for p in places:
            if p.schedule == schedule.name and p.task == args.task and p.state == "done" and p.key in cells:
                cell = cells[p.key]
                if args.metric not in cell.values:
                    raise CrevalError(f"{args.task} has no statistic {args.metric!r}; it has {sorted(cell.values)}")
                trajectory[p.step] = cell.values[args.metric]
        if not trajectory:
            continue
        choice = choose(trajectory, args.metric, tolerance=args.tolerance, seed=args.seed)
        entry: dict = {"schedule": schedule.name, **asdict(choice),
                       "trajectory": {step: mean_of(values) for step, values in sorted(trajectory.items())}}
        if rewards is not None:
            entry["reward_up_metric_down"] = divergences(trajectory, args.metric, rewards, args.window)
        report.append(entry)
    if not report:
        raise CrevalError(f"no evaluated checkpoint has task {args.task!r} in {args.results}")
    if args.json:
        print(to_json(report))
        return 0
    for e in report:
        print(f"{e['schedule']}: step {e['step']}  {args.metric} {e['value']:.3f} [{e['ci_low']:.3f}, {e['ci_high']:.3f}]"
              f"  ({e['reason']})")
        flagged = e.get("reward_up_metric_down")
        if flagged:
            print(f"  training reward rose while {args.metric} got significantly worse at steps "
                  f"{[f['step'] for f in flagged]}")
    return 0

