"""The schedule recommendation validated on the testbed (docs/testbed.md): recommend a stage order from
single-domain pilot runs, then compare the staged runs of the recommended and the reverse order.

One seed, through `creval sweep` and `creval recommend`'s own code:

    creval testbed train --schedule structured-only,creative-only --steps 150 --out PILOT
    creval testbed train --schedule structured-first,creative-first --steps 300 --out STAGED
    python benchmarks/recommend_validation.py staged --pilot PILOT --staged STAGED [--n 8]

Many seeds, from the rows of the order experiment (``benchmarks/testbed_seeds.py``):

    python benchmarks/testbed_seeds.py train --seeds 0-9 --schedules structured-first,creative-first --out seeds.jsonl
    python benchmarks/recommend_validation.py seeds seeds.jsonl [--pilot-steps 25,50,75,100,150]

(``seeds``: see ``validate_seeds``.)

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

import numpy as np
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


def validate_seeds(rows: list[dict], pilot_steps: list[int]) -> dict:
    """Per seed, ``rank`` (``creval recommend``'s model and test) on pilots read from the staged runs
    themselves: the first stage of structured-first is the structured pilot and that of creative-first
    the creative one (a staged run's checkpoint at step s <= 150 is the single-domain run's: the same
    weights), each from the shared warm-up (step 0). For each pilot length, the recommendation and
    whether it is separated; then the two staged runs' measured finals (step 300): the recommended
    order's objective minus the reverse's. Across seeds (the training runs are the units): how often
    the recommendation won, and the paired sign-flip test over seeds of that difference, one-sided in
    the direction fixed before looking (recommended better)."""
    from creval.leaderboards.recommend import rank

    stat = {"math": "score", "code": "score", "creative": "distinct"}
    task = {"math": "toy_math", "code": "toy_code", "creative": "toy_creative"}
    schedule = {("structured", "creative"): "structured-first", ("creative", "structured"): "creative-first"}
    at = {(r["seed"], r["schedule"], r["step"]): {task[f]: dict(enumerate(r[f][stat[f]])) for f in stat} for r in rows}
    seeds = sorted({s for s, name, step in at if step == 300 and all((s, n, 300) in at for n in schedule.values())})
    domains = {"structured": ("math", "code"), "creative": ("writing",)}
    families = {"toy_math": "math", "toy_code": "code", "toy_creative": "writing"}
    measured = {s: {name: at[(s, name, 300)] for name in schedule.values()} for s in seeds}
    objective = {s: {name: float(np.mean([np.mean(list(v.values())) for v in m.values()])) for name, m in measured[s].items()}
                 for s in seeds}
    out: dict = {"seeds": seeds, "pilots": {}}
    for steps in pilot_steps:
        per_seed, won, margin = [], {}, {}
        for s in seeds:
            start = at[(s, "structured-first", 0)]
            pilots = {"structured": [(start, at[(s, "structured-first", steps)])],
                      "creative": [(start, at[(s, "creative-first", steps)])]}
            report = rank(domains, families, pilots)
            best, reverse = schedule[tuple(report["recommended"])], schedule[tuple(reversed(report["recommended"]))]
            predicted = {schedule[tuple(o["order"])]: o["objective"] for o in report["orders"]}
            by_task = {schedule[tuple(o["order"])]: {t: v["mean"] for t, v in o["tasks"].items()} for o in report["orders"]}
            margin[str(s)] = objective[s][best] - objective[s][reverse]
            won[str(s)] = float(margin[str(s)] > 0)
            per_seed.append({"seed": s, "recommended": best, "separated": report["separated"], "predicted": predicted,
                             "measured": objective[s], "won": margin[str(s)] > 0, "predicted_tasks": by_task})
        test = paired(dict.fromkeys(margin, 0.0), margin, min_prompts=2)
        out["pilots"][steps] = {"per_seed": per_seed, "wins": int(sum(won.values())), "seeds": len(seeds),
                                "separated": sum(r["separated"] for r in per_seed),
                                "recommended_minus_reverse": {"mean": test.difference, "low": test.low, "high": test.high,
                                                              "p_recommended_better": test.p_higher}}
    last = out["pilots"][max(pilot_steps)]["per_seed"]

    def spread(e: list[float]) -> dict:
        return {"mean": float(np.mean(e)), "sd": float(np.std(e, ddof=1)) if len(e) > 1 else None}

    out["measured_minus_predicted"] = {
        name: {"objective": spread([objective[s][name] - r["predicted"][name] for s, r in zip(seeds, last)]),
               **{t: spread([float(np.mean(list(measured[s][name][t].values()))) - r["predicted_tasks"][name][t]
                             for s, r in zip(seeds, last)]) for t in task.values()}}
        for name in schedule.values()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="how", required=True)
    one = sub.add_parser("staged", help="one seed through creval sweep and creval recommend")
    one.add_argument("--pilot", type=Path, required=True)
    one.add_argument("--staged", type=Path, required=True)
    one.add_argument("--results", type=Path, help="default: PILOT/../validation-results")
    one.add_argument("--n", type=int, default=8)
    one.add_argument("--diversity", default="distinct-1", help="writing statistic (toy_creative answers are one word)")
    many = sub.add_parser("seeds", help="every seed of the order experiment's rows")
    many.add_argument("rows", type=Path)
    many.add_argument("--pilot-steps", default="25,50,75,100,150", help="pilot lengths to recommend from")
    args = parser.parse_args()
    if args.how == "seeds":
        from testbed_seeds import load

        steps = [int(x) for x in args.pilot_steps.split(",")]
        print(json.dumps(finite(validate_seeds(load(args.rows), steps)), indent=1))
        return
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
