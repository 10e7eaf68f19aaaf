"""The ``creval`` command: thin wrappers over the library.

Exit codes (``creval.errors``): 0 ok; 1 a regression gate crossed (``compare``) or a checkpoint failed
(``sweep``); 2 bad input (one line on stderr, nothing written); 3 internal error (a bug: one line and a
request to report it; ``CREVAL_DEBUG=1`` shows the traceback); 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import BAD_INPUT, INTERNAL_ERROR, INTERRUPTED, CrevalError
from . import audit_cmd, board_cmd, store_cmd, sweep_cmd, testbed_cmd
from .args import Parser, output_dir, positive_float, positive_int

EXAMPLES = """examples:
  creval demo                                   train, sweep and publish tiny RL trajectories, offline, CPU
  creval run --model ./ckpt                     the bundled mini suite (math, code, writing)
  creval run --model ./ckpt --tasks mini_math --n 16 --metric pass_at_k:k=1,4,16 --json
  creval run --model ./ckpt --tasks gsm8k:data=test.jsonl:limit=100,humaneval,my_task.yaml
  creval audit-grader --task gsm8k:data=test.jsonl --generations results/cells/<key>
  creval sweep sweep.yaml [--dry-run | --watch]   then   creval status sweep.yaml

exit codes: 0 ok, 1 a gate crossed (compare) or a checkpoint failed (sweep), 2 bad input,
  3 internal error (a bug, please report it), 130 interrupted
"""


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="evaluate one checkpoint", description="Evaluate one checkpoint on a set of "
                       "tasks; cells already in the results directory are read back, not regenerated.")
    p.add_argument("--model", required=True, help="checkpoint directory (or hub id when online)")
    p.add_argument("--tasks", type=_csv, help="comma-separated task names (default: the mini suite); see `creval tasks`")
    p.add_argument("--metric", action="append", dest="metrics", metavar="SPEC",
                   help="metric spec name[:key=value[:key=value]], repeatable (default: pass_at_k, maj_at_k, "
                   "distinct_n, self_bleu, compression_ratio, ast_diversity, token_entropy); see `creval metrics`")
    p.add_argument("--n", type=positive_int, default=8, help="samples per prompt (default 8)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature; 0 is greedy (default 1.0)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default 1.0)")
    p.add_argument("--max-new-tokens", type=positive_int, default=256, help="generation length limit (default 256)")
    p.add_argument("--seed", type=int, default=0, help="run seed; each sample's seed derives from it (default 0)")
    p.add_argument("--stop", action="append", default=[], help="stop string, repeatable")
    p.add_argument("--out", type=output_dir, default="results", help="results directory (default ./results)")
    p.add_argument("--force", action="store_true", help="regenerate and rescore cells already in the store")
    p.add_argument("--backend", default="hf", help="generation backend: hf (default), vllm, openai, replay; "
                   "see `creval backends`")
    p.add_argument("--dtype", help="hf: float32 | bfloat16 | float16 (default float32)")
    p.add_argument("--device", help="hf: cpu | cuda | cuda:N (default: cuda if available)")
    p.add_argument("--batch-size", type=positive_int, help="hf: sequences per forward batch (default 64)")
    p.add_argument("--hidden-states", action="store_true",
                   help="hf: also store each response's hidden-state effective rank (metric effective_rank)")
    p.add_argument("--generations", help="replay: the file of generations to score (JSONL, Parquet, CSV)")
    p.add_argument("--base-url", help="openai: the server's base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--served-model", help="openai: the model name the server knows (default: --model)")
    p.add_argument("--api", choices=("auto", "chat", "completions"),
                   help="openai: endpoint (default auto: chat prompts to /chat/completions, others to /completions)")
    p.add_argument("--concurrency", type=positive_int, help="openai: requests in flight (default 8)")
    p.add_argument("--top-logprobs", type=positive_int, help="openai/vllm: log-probabilities per step for entropy (default 20)")
    p.add_argument("--tensor-parallel-size", type=positive_int, help="vllm: GPUs per engine")
    p.add_argument("--max-model-len", type=positive_int, help="vllm: context length")
    p.add_argument("--gpu-memory-utilization", type=positive_float, help="vllm: share of GPU memory for the engine")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..records import GenerationConfig
    from ..runner import run
    from .render import print_run, to_json

    config = GenerationConfig(n=args.n, temperature=args.temperature, top_p=args.top_p,
                              max_new_tokens=args.max_new_tokens, seed=args.seed, stop=tuple(args.stop))
    options = {"dtype": args.dtype, "device": args.device, "batch_size": args.batch_size,
               "hidden_states": True if args.hidden_states else None, "generations": args.generations,
               "base_url": args.base_url, "served_model": args.served_model, "api": args.api,
               "concurrency": args.concurrency, "top_logprobs": args.top_logprobs,
               "tensor_parallel_size": args.tensor_parallel_size, "max_model_len": args.max_model_len,
               "gpu_memory_utilization": args.gpu_memory_utilization}
    result = run(args.model, args.tasks, config, backend=args.backend,
                 backend_options={k: v for k, v in options.items() if v is not None}, metrics=args.metrics,
                 out=args.out, force=args.force, progress=not args.no_progress and sys.stderr.isatty())
    if args.json:
        print(to_json(result.to_dict()))
    else:
        print_run(result, Console())
    return 0


def _cmd_list(kind: str, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .. import registry
    from .render import to_json

    rows = []
    for name, target in registry.available(kind).items():
        obj = registry.load(kind, name)
        rows.append({"name": name, "target": target, "family": getattr(obj, "family", None),
                     "families": list(getattr(obj, "families", ()) or ()) or None,
                     "version": getattr(obj, "version", None), "description": getattr(obj, "description", "") or ""})
    if args.json:
        print(to_json(rows))
        return 0
    table = Table(title=f"registered {kind} (--json for their import targets)", title_justify="left")
    for col in ("name", "family" if kind == "tasks" else "applies to", "description"):
        table.add_column(col)
    for r in rows:
        families = r["families"] or []
        scope = r["family"] if kind == "tasks" else ("all" if len(families) == 3 else ", ".join(families))
        table.add_row(r["name"], scope or "", r["description"])
    Console().print(table)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..demo import demo
    from ..demo_findings import findings
    from .demo_view import trajectory_table

    console = Console()
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

    if args.k < 1:
        raise CrevalError(f"--k must be at least 1, got {args.k}")
    for path in write_package(args.path, args.k):
        print(f"wrote {path}")
    print(f"run: lm_eval --model hf --model_args pretrained=CKPT --include_path {args.path} --tasks creval_writing,creval_math")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creval", description="Creativity vs. correctness along RL training trajectories.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"creval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(sub)
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
    testbed_cmd.add_parser(sub)
    store_cmd.add_parser(sub)
    lm = sub.add_parser("lm-eval-tasks", help="write an lm-eval task package that reports creval's metrics",
                        description="Write lm-evaluation-harness tasks (creval_writing, creval_math) whose per-document "
                        "metrics are creval's: run them with `lm_eval --include_path PATH --tasks creval_writing`.")
    lm.add_argument("path", type=Path, help="folder to write the package to")
    lm.add_argument("--k", type=positive_int, default=4, help="samples per document (lm-eval repeats; default 4)")
    return parser


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).strip().splitlines()) or "no details"


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    handlers = {"run": _cmd_run, "demo": _cmd_demo, "audit-grader": audit_cmd.run, "sweep": sweep_cmd.run_sweep,
                "status": sweep_cmd.run_status, "leaderboard": board_cmd.run_leaderboard, "compare": board_cmd.run_compare,
                "best": board_cmd.run_best, "testbed": testbed_cmd.run, "lm-eval-tasks": _cmd_lm_eval_tasks,
                "store": store_cmd.run}
    try:
        args = build_parser().parse_args(argv)
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
