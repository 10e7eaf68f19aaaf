"""How ``creval demo`` shows its trajectory: one row per checkpoint, the direction of each column."""
from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.table import Table

from ..demo import DemoPoint

COLUMNS = (
    ("entropy\nwriting", "mini_writing", "token_entropy"),
    ("entropy\nmath", "mini_math", "token_entropy"),
    ("distinct-1\nwriting", "mini_writing", "distinct-1"),
    ("distinct-2\nwriting", "mini_writing", "distinct-2"),
    ("pass@1\nmath", "mini_math", "pass@1"),
    ("pass@1\ncode", "mini_code", "pass@1"),
)


def trajectory_table(points: Sequence[DemoPoint]) -> Table:
    table = Table(title="trajectory (means over prompts)", title_justify="left")
    table.add_column("step\n(sharpen)", justify="right")
    for title, _, _ in COLUMNS:
        table.add_column(title, justify="right")
    for p in points:
        table.add_row(f"{p.step} (x{p.factor:g})", *(f"{p.value(task, stat):.3f}" for _, task, stat in COLUMNS))
    return table


def print_points(points: Sequence[DemoPoint], console: Console) -> None:
    first, last = points[0], points[-1]
    for title, task, stat in COLUMNS[:4]:
        a, b = first.value(task, stat), last.value(task, stat)
        if a == a and b == b and a:  # both defined
            console.print(f"  {title.replace(chr(10), ' ')}: {a:.3f} -> {b:.3f} ({(b - a) / a:+.0%}) from step {first.step} to {last.step}")
    console.print(f"results (Parquet, readable with pandas): {last.result.results_dir}")
    console.print("re-running reads every cell back from the store; `creval run --model <checkpoint>` evaluates your own")
