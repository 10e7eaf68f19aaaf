"""``creval recommend``: a stage order from a pilot sweep's measured transfer (``creval.leaderboards.recommend``)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .args import output_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recommend", help="recommend a stage order from a pilot sweep's backward transfer",
        description="From a pilot sweep (single-stage schedules, one per domain, each stage naming its families): the "
        "change each domain's training causes on every task (paired intervals), the predicted final scores of every "
        "order of the domains with intervals, and the recommended order (Omni-Thinker's backward-transfer scheduling; "
        "definitions in docs/recommend.md).")
    p.add_argument("--manifest", required=True, help="the pilot's sweep manifest")
    p.add_argument("--results", type=Path, help="results directory (default: the manifest's)")
    p.add_argument("--diversity", default="distinct-2",
                   help="the writing statistic transfer is measured on (default distinct-2; pass@1 for math and code)")
    p.add_argument("--write", type=output_file,
                   help="where to write the report (JSON; default RESULTS/recommendations/<manifest name>.json)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..jsonsafe import finite
    from ..leaderboards.extras_page import verdict
    from ..leaderboards.recommend import recommend
    from ..manifest import load_manifest
    from .render import to_json

    results = args.results or load_manifest(args.manifest).results
    report = recommend(results, Path(args.manifest), diversity=args.diversity)
    target = args.write or Path(results) / "recommendations" / f"{Path(args.manifest).stem}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(finite(report), indent=1, allow_nan=False))
    if args.json:
        print(to_json(report))
        return 0
    console = Console()
    evidence = Table(title="measured transfer: change of each task when a domain is trained alone", title_justify="left")
    for col in ("trained", "task", "start", "end", "change [95% CI]", "p (lower / higher)"):
        evidence.add_column(col)
    for r in report["evidence"]:
        evidence.add_row(r["trained"], r["task"], f"{r['start']:.3f}", f"{r['end']:.3f}",
                         f"{r['change']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]",
                         f"{r['p_lower']:.3g} / {r['p_higher']:.3g}" if r["testable"] else f"not testable: {r['reason']}")
    console.print(evidence)
    orders = Table(title="predicted final scores by stage order (best first)", title_justify="left")
    for col in ("order", "objective", *report["orders"][0]["tasks"], "recommended - this [simultaneous CI]",
                "p (two-sided, Bonferroni)"):
        orders.add_column(col)
    for o in report["orders"]:
        vs = o.get("recommended_minus_this")
        margin = "(recommended)" if vs is None else f"{vs['difference']:+.3f} [{vs['low']:+.3f}, {vs['high']:+.3f}]"
        p = "" if vs is None else f"{vs['p']:.3g}" if vs["testable"] else f"not testable: {vs['reason']}"
        orders.add_row(" -> ".join(o["order"]), f"{o['objective']:.3f}",
                       *(f"{s['mean']:.3f} [{s['low']:.3f}, {s['high']:.3f}]" for s in o["tasks"].values()), margin, p)
    console.print(orders)
    console.print(f"recommended order: {' -> '.join(report['recommended'])}. {verdict(report)}", highlight=False,
                  soft_wrap=True)
    console.print(f"report: {target}", highlight=False, soft_wrap=True)
    return 0
