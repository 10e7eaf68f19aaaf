"""Rendering results for people (rich tables) and machines (strict JSON: NaN becomes null)."""
from __future__ import annotations

import json
import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..jsonsafe import finite
from ..records import CellResult, RunResult


def _num(x: float, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def cell_title(cell: CellResult, config_n: int) -> str:
    origin = "from store" if cell.cached else "generated"
    return f"{cell.task} ({cell.family}): {cell.n_prompts} prompts x {config_n} samples, {origin}"


def cell_table(cell: CellResult) -> Table:
    """The cell's statistics; its title goes on a line of its own (``cell_title``), printed with soft
    wrapping, so that a long task label is never broken inside a token to fit the table's width."""
    table = Table()
    table.add_column("statistic")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("prompts", justify="right")
    for s in cell.summaries:
        if s.note == "across prompts":
            table.add_row(s.statistic, _num(s.mean), "(across prompts)", str(s.n_prompts))
        elif s.note:
            table.add_row(s.statistic, "n/a", escape(s.note), "0")
        else:
            table.add_row(s.statistic, _num(s.mean), f"[{_num(s.ci_low)}, {_num(s.ci_high)}]", str(s.n_prompts))
    return table


def cell_notes(cell: CellResult) -> list[str]:
    """Lines under a cell's table: truncation (truncated answers grade as wrong), length, grade counts."""
    truncated = f"truncated (finish=length): {cell.truncation_rate:.1%} of samples"
    if cell.truncation_rate > 0.1:
        truncated = f"[bold yellow]{truncated}[/]: raise --max-new-tokens, truncated answers grade as wrong"
    grades = ", ".join(f"{k} {v}" for k, v in sorted(cell.grade_counts.items()))
    notes = [truncated, f"mean tokens per sample: {cell.mean_tokens:.1f}; grades: {grades}; grader: {cell.grader}"]
    if "/rlimits/" in cell.grader:
        notes.append("[bold red]generated code ran WITHOUT isolation (rlimits only): install bubblewrap[/]")
    return notes


def print_run(result: RunResult, console: Console, *, signatures: bool = False) -> None:
    """Per cell its title, table and notes; ``signatures``: also every statistic's signature (they are
    always in ``--json`` and in ``results.json``)."""
    console.print(f"[bold]{escape(result.model)}[/]  fingerprint {result.fingerprint}  backend {result.backend}",
                  soft_wrap=True, highlight=False)
    for cell in result.cells:
        console.print(escape(cell_title(cell, result.config.n)), soft_wrap=True, highlight=False, style="italic")
        console.print(cell_table(cell))
        for line in cell_notes(cell):
            console.print(f"  {line}", highlight=False, soft_wrap=True)
        if signatures:
            for s in cell.summaries:
                console.print(f"  [dim]{s.signature}[/]", highlight=False, soft_wrap=True)
        console.print(f"  [dim]cell {cell.cell_key}: {cell.path}[/]", highlight=False, soft_wrap=True)
    console.print(f"results in {result.results_dir}")


def to_json(obj: Any) -> str:
    return json.dumps(finite(obj), indent=2, allow_nan=False)
