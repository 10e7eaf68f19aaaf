"""``creval run``: one checkpoint on a set of tasks; tables (or JSON) on stdout, and with
``--output-path`` a ``results.json`` (and with ``--log-samples`` a sample log per task) in lm-eval's shape.

lm-evaluation-harness's spellings are accepted for arrivals: ``--model hf --model_args pretrained=X``
(``backend_args``), ``--num_fewshot``, ``--batch_size``, ``--limit``, ``--output_path``, ``--log_samples``.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .args import nonnegative_int, output_dir, positive_float, positive_int
from .backend_args import batch_size, key_value

log = logging.getLogger("creval.cli")


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="evaluate one checkpoint", description="Evaluate one checkpoint on a set of "
                       "tasks; cells already in the results directory are read back, not regenerated. "
                       "lm-evaluation-harness's spellings work too: --model hf --model_args pretrained=CKPT, "
                       "--num_fewshot, --batch_size, --limit, --output_path, --log_samples (docs/lm-eval.md).")
    p.add_argument("--model", required=True, help="checkpoint directory (or hub id when online); with --model_args, "
                   "lm-eval's model type: hf, vllm, openai-completions, local-completions, local-chat-completions")
    p.add_argument("--model-args", "--model_args", dest="model_args", metavar="KEY=VALUE,...",
                   help="lm-eval style: pretrained=CKPT (or model=NAME for openai) and backend options, comma-separated")
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
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N prompts per task, for tasks that take a limit "
                   "(gsm8k, math500, humaneval, lm_eval:TASK, ...); others run whole, with a warning")
    p.add_argument("--num-fewshot", "--num_fewshot", dest="num_fewshot", type=nonnegative_int, metavar="N",
                   help="few-shot examples, for tasks that take a few-shot setting (lm_eval:TASK); creval's own "
                   "tasks have fixed prompts and run as they are, with a warning")
    p.add_argument("--out", type=output_dir, default="results", help="results store (default ./results)")
    p.add_argument("--output-path", "--output_path", dest="output_path", type=output_dir, metavar="DIR",
                   help="also write DIR/results.json: every summary, its standard error and signature, the run config")
    p.add_argument("--log-samples", "--log_samples", dest="log_samples", action="store_true",
                   help="with --output-path: also DIR/samples_<task>_<timestamp>.jsonl, a line per prompt "
                   "(prompt, target, samples, answers, grades, per-prompt statistics)")
    p.add_argument("--force", action="store_true", help="regenerate and rescore cells already in the store")
    p.add_argument("--backend", help="generation backend: hf (default), vllm, openai, replay; see `creval backends`")
    p.add_argument("--backend-option", action="append", type=key_value, metavar="KEY=VALUE",
                   help="any backend option, repeatable (e.g. timeout=60, enforce_eager=true, vocab_size=151936); "
                   "`creval backends` lists each backend's options")
    p.add_argument("--dtype", help="hf: float32 | bfloat16 | float16 (default float32)")
    p.add_argument("--device", help="hf: cpu | cuda | cuda:N (default: cuda if available)")
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=batch_size,
                   help="hf: sequences per forward batch (default 64; auto = the default)")
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
    p.add_argument("--verbose", action="store_true", help="also print every statistic's signature under its table")
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr (a log line per step instead)")


def task_specs(specs: Sequence[str], limit: int | None, num_fewshot: int | None) -> list[str]:
    """``specs`` with ``limit`` and ``num_fewshot`` set on every task that takes them (a value the spec
    sets itself wins); the tasks that do not take one are named in a warning."""
    from creval.tasks.spec import is_spec_file

    from .. import registry
    from ..spec_strings import split_spec

    wanted = {k: v for k, v in (("limit", limit), ("num_fewshot", num_fewshot)) if v is not None}
    skipped: dict[str, list[str]] = {k: [] for k in wanted}
    out = []
    for spec in specs:
        name, assignments = split_spec(spec)
        set_here = {a.partition("=")[0] for a in assignments}
        if name == "lm_eval":
            from creval.tasks.lm_eval_task import PARAMS

            takes = set(PARAMS)
        elif is_spec_file(spec):  # a task file sets its own limit
            takes = set()
        else:
            cls = registry.load("tasks", name)
            takes = set(getattr(cls, "__dataclass_fields__", {}))
        for key, value in wanted.items():
            if key in takes and key not in set_here:
                spec += f":{key}={value}"
            elif key not in takes:
                skipped[key].append(name)
        out.append(spec)
    for key, names in skipped.items():
        if names and not (key == "num_fewshot" and wanted[key] == 0):
            log.warning("--%s %s does not apply to %s: %s", key, wanted[key], ", ".join(names),
                        "their prompts are fixed" if key == "num_fewshot" else "they run whole")
    return out


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..records import GenerationConfig
    from ..results_file import write_results, write_sample_logs
    from ..runner import DEFAULT_TASKS, load_tasks
    from ..runner import run as run_tasks
    from .backend_args import resolve
    from .render import print_run, to_json

    if args.log_samples and args.output_path is None:
        from ..errors import CrevalError

        raise CrevalError("--log-samples needs --output-path DIR (where the sample logs go)")
    model, backend, options = resolve(args)
    specs = task_specs(args.tasks or list(DEFAULT_TASKS), args.limit, args.num_fewshot)
    config = GenerationConfig(n=args.n, temperature=args.temperature, top_p=args.top_p,
                              max_new_tokens=args.max_new_tokens, seed=args.seed, stop=tuple(args.stop))
    result = run_tasks(model, specs, config, backend=backend, backend_options=options, metrics=args.metrics,
                       out=args.out, force=args.force, progress=not args.no_progress and sys.stderr.isatty())
    if args.output_path is not None:
        tasks = load_tasks(specs)
        extra = {"backend": backend, "backend_options": options, "tasks": specs, "metrics": args.metrics,
                 "limit": args.limit, "num_fewshot": args.num_fewshot, "command": ["creval", *args.argv]}
        written = [write_results(result, args.output_path, tasks, extra)]
        if args.log_samples:
            written += write_sample_logs(result, args.output_path, tasks)
        for path in written:
            log.info("wrote %s", path)
    if args.json:
        print(to_json(result.to_dict()))
    else:
        print_run(result, Console(), signatures=args.verbose)
    return 0
