"""How ``creval demo`` shows its trajectories: per schedule and step, entropy and the key metrics."""
from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table

COLUMNS = (  # short headers: the table fits 80 columns with whole schedule names
    ("H\nmath", "toy_math", "token_entropy"),
    ("H\ncode", "toy_code", "token_entropy"),
    ("H\ncreat.", "toy_creative", "token_entropy"),
    ("pass@1\nmath", "toy_math", "pass@1"),
    ("pass@1\ncode", "toy_code", "pass@1"),
    ("dist-1\ncreat.", "toy_creative", "distinct-1"),
)


def trajectory_table(board: dict[str, Any]) -> Table:
    value = {(r["schedule"], r["step"], r["task"], r["statistic"]): r["mean"] for r in board["rows"]}
    table = Table(title="trajectories (means over prompts; H: token entropy, nats)", title_justify="left",
                  box=box.SIMPLE_HEAD)
    for title in ("schedule", "step", *(c[0] for c in COLUMNS)):
        table.add_column(title, justify="left" if title == "schedule" else "right", no_wrap=True)
    for s in board["schedules"]:
        for step in sorted({k[1] for k in value if k[0] == s}):
            cells = []
            for _, task, stat in COLUMNS:
                v = value.get((s, step, task, stat))
                cells.append("n/a" if v is None or v != v else f"{v:.3f}")
            table.add_row(s, str(step), *cells)
    return table
