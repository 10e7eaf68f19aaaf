"""The ``creval`` command: thin wrappers over the library.

Exit codes (``creval.errors``): 0 ok; 1 a regression gate crossed (``compare``) or a checkpoint failed
(``sweep``); 2 bad input (one line on stderr, nothing written); 3 internal error (a bug: one line and a
request to report it; ``CREVAL_DEBUG=1`` shows the traceback); 130 interrupted.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import BAD_INPUT, INTERNAL_ERROR, INTERRUPTED, CrevalError
from . import audit_cmd, board_cmd, export_cmd, probe_cmd, recommend_cmd, run_cmd, store_cmd, sweep_cmd, testbed_cmd
from .args import Parser, output_dir, positive_int
from .logsetup import configure, level

log = logging.getLogger("creval.cli")
EXAMPLES = """examples:
  creval demo                                   train, sweep and publish tiny RL trajectories, offline, CPU
  creval run --model ./ckpt                     the bundled mini suite (math, code, writing)
  creval run --model ./ckpt --tasks mini_math --n 16 --metric pass_at_k:k=1,4,16 --json
  creval run --model ./ckpt --tasks gsm8k:data=test.jsonl:limit=100,humaneval,my_task.yaml
  creval run --model ./ckpt --output-path out --log-samples    out/results.json and a sample log per task
  creval run --model hf --model_args pretrained=./ckpt --batch_size 8 --output_path out   (lm-eval's spelling)
  creval audit-grader --task gsm8k:data=test.jsonl --generations results/cells/<key>
  creval sweep sweep.yaml [--dry-run | --watch]   then   creval status sweep.yaml
  creval export tensorboard --results results --manifest sweep.yaml   (or wandb: offline runs)

exit codes: 0 ok, 1 a gate crossed (compare) or a checkpoint failed (sweep), 2 bad input,
  3 internal error (a bug, please report it), 130 interrupted
"""


def _cmd_list(kind: str, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .. import registry
    from .render import to_json

    rows: list[dict] = []
    for name, target in registry.available(kind).items():
        obj = registry.load(kind, name)
        row: dict[str, Any] = {"name": name, "target": target, "family": getattr(obj, "family", None),
               "families": list(getattr(obj, "families", ()) or ()) or None,
               "version": getattr(obj, "version", None), "description": getattr(obj, "description", "") or ""}
        if kind == "backends":
            row["options"] = dict(getattr(obj, "defaults", {}))
        rows.append(row)
    if args.json:
        print(to_json(rows))
        return 0
    third = {"tasks": "family", "metrics": "applies to", "backends": "options=default"}[kind]
    hint = "; set options with run --backend-option KEY=VALUE" if kind == "backends" else ""
    table = Table(title=f"registered {kind} (--json for their import targets{hint})", title_justify="left")
    for col in ("name", third, "description"):
        table.add_column(col)
    for r in rows:
        families = r["families"] or []
        if kind == "tasks":
            scope = r["family"] or ""
        elif kind == "metrics":  # a metric without ``families`` applies to every family
            scope = "all" if not families or len(families) == 3 else ", ".join(families)
        else:
            scope = ", ".join(k if v is None else f"{k}={v}" for k, v in r["options"].items())
        table.add_row(r["name"], scope, r["description"])
    Console().print(table)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..demo import demo
    from ..demo_findings import findings
    from .demo_view import trajectory_table
    from .render import to_json

    console = Console()
    if args.json:  # stdout is the JSON document: the narration goes to the log (stderr)
        log.info("demo: tiny policies trained with RL under three schedules, in %s", args.out)
        result = demo(Path(args.out), quick=args.quick, progress=sys.stderr.isatty(), on_progress=log.info)
        print(to_json({"out": str(args.out), "manifest": str(result.manifest), "site": str(result.site / "index.html"),
                       "trained": result.trained, "findings": findings(result.board),
                       "rows": result.board["rows"]}))
        return 0
    console.print(f"[bold]creval demo[/]: tiny policies trained with RL under three schedules, evaluated along "
                  f"their trajectories, in {args.out} (offline, CPU)")
    result = demo(Path(args.out), quick=args.quick, progress=sys.stderr.isatty(),
                  on_progress=lambda line: console.print(f"  {line}", highlight=False))
    console.print(trajectory_table(result.board))
    console.print("[bold]found[/] (from the leaderboard above):")
    for line in findings(result.board):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print(f"leaderboard: {result.site / 'index.html'} (also leaderboard.md, .json, .csv, PNGs)", soft_wrap=True)
    console.print(f"re-run: `creval sweep {result.manifest}` / `creval status {result.manifest}`; "
                  "`creval run --model <checkpoint>` evaluates your own", soft_wrap=True)
    return 0


def _cmd_lm_eval_tasks(args: argparse.Namespace) -> int:
    from creval.tasks.lm_eval_package import write_package

    from .render import to_json

    if args.k < 1:
        raise CrevalError(f"--k must be at least 1, got {args.k}")
    paths = write_package(args.path, args.k)
    command = f"lm_eval --model hf --model_args pretrained=CKPT --include_path {args.path} --tasks creval_writing,creval_math"
    if args.json:
        print(to_json({"files": [str(p) for p in paths], "tasks": ["creval_writing", "creval_math"], "run": command}))
        return 0
    for path in paths:
        print(f"wrote {path}")
    print(f"run: {command}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creval", description="Creativity vs. correctness along RL training trajectories.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"creval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_cmd.add_parser(sub)
    for kind in ("tasks", "metrics", "backends"):
        p = sub.add_parser(kind, help=f"list registered {kind}", description=f"List registered {kind} "
                           f"(built in, or added by packages through the creval.{kind} entry point).")
        p.add_argument("--json", action="store_true", help="print JSON")
    d = sub.add_parser("demo", help="train tiny policies with RL, sweep their checkpoints, build the leaderboard",
                       description="The testbed end to end, offline, on a CPU: tiny GPT-2 policies trained with RL "
                       "under structured-only, structured-first and creative-first schedules, every checkpoint evaluated, "
                       "the leaderboard site built. A few minutes on 2 cores; --quick for tests.")
    d.add_argument("--out", type=output_dir, default="creval-demo", help="working directory (default ./creval-demo)")
    d.add_argument("--quick", action="store_true", help="a smoke run: a short warm-up and 20 RL steps (about 50 s of CPU; "
                   "too short to show entropy collapse)")
    audit_cmd.add_parser(sub)
    sweep_cmd.add_parsers(sub)
    board_cmd.add_parsers(sub)
    export_cmd.add_parsers(sub)
    testbed_cmd.add_parser(sub)
    store_cmd.add_parser(sub)
    probe_cmd.add_parser(sub)
    recommend_cmd.add_parser(sub)
    lm = sub.add_parser("lm-eval-tasks", help="write an lm-eval task package that reports creval's metrics",
                        description="Write lm-evaluation-harness tasks (creval_writing, creval_math) whose per-document "
                        "metrics are creval's: run them with `lm_eval --include_path PATH --tasks creval_writing`.")
    lm.add_argument("path", type=Path, help="folder to write the package to")
    lm.add_argument("--k", type=positive_int, default=4, help="samples per document (lm-eval repeats; default 4)")
    lm.add_argument("--json", action="store_true", help="print the files written and the lm_eval command as JSON")
    d.add_argument("--json", action="store_true", help="print the result (paths, findings, every leaderboard value) as JSON")
    _add_logging_options(parser, top=True)
    return parser


def _add_logging_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--verbosity`` and ``-q`` on the top-level parser and on every command (before or after it)."""
    default = "info" if top else argparse.SUPPRESS  # a command's own default would undo a value given before it
    parser.add_argument("--verbosity", type=level, default=default, metavar="LEVEL",
                        help="log lines on stderr: debug, info (default), warning, error; below debug, "
                        "transformers', datasets' and lm-eval's own logs and bars are quieted")
    parser.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const="warning", default=default,
                        help="only warnings and errors on stderr (--verbosity warning)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_logging_options(child, top=False)


def _one_line(text: object) -> str:
    return " ".join(line.strip() for line in str(text).strip().splitlines()) or "no details"


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    handlers = {"run": run_cmd.run, "demo": _cmd_demo, "audit-grader": audit_cmd.run, "sweep": sweep_cmd.run_sweep,
                "status": sweep_cmd.run_status, "leaderboard": board_cmd.run_leaderboard, "compare": board_cmd.run_compare,
                "best": board_cmd.run_best, "testbed": testbed_cmd.run, "lm-eval-tasks": _cmd_lm_eval_tasks,
                "store": store_cmd.run, "export": export_cmd.run_export, "probe": probe_cmd.run,
                "recommend": recommend_cmd.run}
    try:
        args = build_parser().parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        configure(args.verbosity)
        if args.command in ("tasks", "metrics", "backends"):
            return _cmd_list(args.command, args)
        return handlers[args.command](args)
    except CrevalError as exc:
        print(f"creval: error: {_one_line(exc)}", file=sys.stderr)
        return BAD_INPUT
    except OSError as exc:  # a file that cannot be read or written: the environment, not creval
        print(f"creval: error: {_one_line(_os_error(exc))}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("creval: interrupted; completed cells are stored, re-run to finish", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:
        if os.environ.get("CREVAL_DEBUG"):
            raise
        print(f"creval: internal error: {type(exc).__name__}: {_one_line(exc)[:300]}; this is a bug, please report "
              "it with the command that caused it (CREVAL_DEBUG=1 shows the traceback)", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
