"""Summarise a multi-seed testbed experiment (docs/testbed.md): per schedule, the mean over seeds of
token entropy, pass@1 and distinct-1 at each checkpoint, with the spread over seeds.

    creval testbed train --schedule joint,structured-first,creative-first,structured-only,creative-only \\
        --seeds 0,1,2,3,4 --out run
    creval sweep run/sweep.yaml
    creval leaderboard build --results run/results --manifest run/sweep.yaml --out site
    python examples/testbed_summary.py site/leaderboard.json
"""
import json
import statistics
import sys
from collections import defaultdict

STATS = [("toy_math", "token_entropy"), ("toy_code", "token_entropy"), ("toy_creative", "token_entropy"),
         ("toy_math", "pass@1"), ("toy_code", "pass@1"), ("toy_creative", "distinct-1")]


def main(path: str) -> None:
    with open(path) as f:
        board = json.load(f)
    values = defaultdict(list)  # (schedule, step, task, stat) -> values over seeds
    for r in board["rows"]:
        schedule = r["schedule"].rsplit("-s", 1)[0]
        if (r["task"], r["statistic"]) in STATS and r["mean"] is not None:
            values[(schedule, r["step"], r["task"], r["statistic"])].append(r["mean"])
    schedules = list(dict.fromkeys(k[0] for k in values))
    header = "| schedule | step | " + " | ".join(f"{t.replace('toy_', '')} {s}" for t, s in STATS) + " |"
    print(header)
    print("|---|---|" + "---|" * len(STATS))
    for sched in schedules:
        for step in sorted({k[1] for k in values if k[0] == sched}):
            cells = []
            for task, stat in STATS:
                v = values.get((sched, step, task, stat), [])
                cells.append(f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}" if len(v) > 1 else
                             (f"{v[0]:.3f}" if v else "n/a"))
            print(f"| {sched} | {step} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
