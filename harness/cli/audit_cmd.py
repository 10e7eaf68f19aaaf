"""``creval audit-grader``: where creval's math grader and the usual alternatives disagree."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit-grader", help="compare math graders on the same generations",
        description="Grade the same generations with creval's grader (extraction chain + math-verify) and with "
        "exact match, lm-eval's gsm8k strict and flexible regexes, and math-verify alone; list every sample on "
        "which they disagree.")
    p.add_argument("--task", required=True, help="task spec, e.g. gsm8k:data=path/to/test.jsonl")
    p.add_argument("--generations", required=True, type=Path,
                   help="JSONL of {prompt_id, text} or {prompt_id, samples}, or a creval generations.parquet / cell dir")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ..audit import audit, read_generations, rule_counts, summary, to_dict
    from ..runner import load_task
    from .render import to_json

    task = load_task(args.task)
    rows = audit(task, read_generations(args.generations))
    if args.json:
        print(to_json(to_dict(rows)))
        return 0
    console = Console()
    table = Table(title=f"{task.label}: {len(rows)} samples", title_justify="left")
    for col in ("grader", "accuracy", "agrees with creval"):
        table.add_column(col, justify="left" if col == "grader" else "right")
    for name, s in summary(rows).items():
        table.add_row(name, f"{s['accuracy']:.3f}", f"{s['agreement_with_creval']:.3f}")
    console.print(table)
    counts = rule_counts(rows)
    console.print("creval's answer came from: " + ", ".join(
        f"{rule} {n} ({n / max(len(rows), 1):.0%})" for rule, n in counts.items()), highlight=False)
    disagreements = [r for r in rows if r.disagrees]
    if not disagreements:
        console.print("all graders agree on every sample")
        return 0
    console.print(f"{len(disagreements)} samples where the graders disagree (✓ right, ✗ wrong, then the answer read):")
    for r in disagreements:
        verdicts = "  ".join(f"{n} {'✓' if r.verdicts[n] else '✗'}{r.answers[n] if r.answers[n] is not None else ''}"
                             for n in r.verdicts)
        console.print(f"  {r.prompt_id} #{r.sample}  gold {r.gold}:  {verdicts}", highlight=False, soft_wrap=True,
                      markup=False)
        tail = " ".join(r.text_tail.split())[-100:]
        console.print(f"    [dim]...{escape(tail)}[/]", highlight=False, soft_wrap=True)
    return 0
