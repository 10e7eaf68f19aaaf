"""The schedule recommendation validated on the testbed (docs/testbed.md): recommend a stage order from
single-domain pilot runs, then compare the staged runs of the recommended and the reverse order.

    creval testbed train --schedule structured-only,creative-only --steps 150 --out PILOT
    creval testbed train --schedule structured-first,creative-first --steps 300 --out STAGED
    python benchmarks/recommend_validation.py --pilot PILOT --staged STAGED [--n 8]

Only the first and last checkpoint of each run are evaluated (a lean manifest per folder, written next
to the runs, sharing one results directory). Prints JSON: the recommendation, and for each staged
schedule its measured final per task (mean over prompts with the interval) and objective (the mean
over tasks of pass@1 for math and code, ``--diversity`` for writing: distinct-1, the toy answers being one word), the order's predicted objective, and
the paired comparison recommended minus reverse over the pooled prompts (as ``creval recommend``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from creval.jsonsafe import finite
from creval.leaderboards.collect import read_cell
from creval.leaderboards.recommend import interval, pooled, recommend
from creval.manifest import discover, load_manifest
from creval.stats import paired
from creval.store import Store
from creval.sweep import placed, sweep


def lean_manifest(folder: Path, results: Path, n: int) -> Path:
    """A manifest of ``folder``'s runs (as ``creval testbed train`` wrote them) at their first and last checkpoint."""
    full = yaml.safe_load((folder / "sweep.yaml").read_text())
    schedules = {}
    for name, spec in full["schedules"].items():
        found = discover(Path(spec["discover"]))
        ends = [found[0], found[-1]]
        schedules[name] = {"stages": spec["stages"], "checkpoints": [{"path": str(p), "step": s} for s, p in ends]}
    lean = {**full, "generation": {**full["generation"], "n": n}, "results": str(results), "schedules": schedules}
    path = folder / "lean.yaml"
    path.write_text(yaml.safe_dump(lean, sort_keys=False))
    return path


def finals(manifest_path: Path, results: Path, diversity: str) -> dict[str, dict[str, dict[str, float]]]:
    """schedule -> task -> per-prompt domain statistic at the schedule's last checkpoint."""
    manifest = load_manifest(manifest_path)
    store = Store(results)
    cells = [c for c in placed(manifest) if c.state == "done"]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for s in manifest.schedules:
        last = max(c.step for c in cells if c.schedule == s.name)
        for c in cells:
            if c.schedule == s.name and c.step == last:
                scores = read_cell(store, c.key)
                stat = "pass@1" if scores.family in ("math", "code") else diversity
                out.setdefault(s.name, {})[c.task] = scores.values[stat]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pilot", type=Path, required=True)
    parser.add_argument("--staged", type=Path, required=True)
    parser.add_argument("--results", type=Path, help="default: PILOT/../validation-results")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--diversity", default="distinct-1", help="writing statistic (toy_creative answers are one word)")
    args = parser.parse_args()
    results = args.results or args.pilot.parent / "validation-results"
    pilot, staged = lean_manifest(args.pilot, results, args.n), lean_manifest(args.staged, results, args.n)
    for m in (pilot, staged):
        sweep(load_manifest(m))
    report = recommend(results, pilot, diversity=args.diversity)
    measured = finals(staged, results, args.diversity)
    by_order = {tuple(load_manifest(staged).schedules[i].stages[j][0] for j in range(2)): s.name
                for i, s in enumerate(load_manifest(staged).schedules)}
    predicted = {tuple(o["order"]): o["objective"] for o in report["orders"]}
    rows = {}
    for order, name in by_order.items():
        tasks = {t: interval(v) for t, v in measured[name].items()}
        rows[name] = {"order": list(order), "tasks": tasks, "objective": sum(t["mean"] for t in tasks.values()) / len(tasks),
                      "predicted_objective": predicted.get(order)}
    best, reverse = by_order[tuple(report["recommended"])], by_order[tuple(reversed(report["recommended"]))]
    won = paired(pooled(measured[reverse]), pooled(measured[best]))
    print(json.dumps(finite({"recommendation": report, "staged": rows, "recommended_schedule": best,
                             "recommended_minus_reverse": {"difference": won.difference, "low": won.low, "high": won.high,
                                                           "p_recommended_better": won.p_higher,
                                                           "p_recommended_worse": won.p_lower, "testable": won.testable}}),
                     indent=1))


if __name__ == "__main__":
    main()
