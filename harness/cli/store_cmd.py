"""``creval store verify RESULTS [--repair]``: read every file of every cell; set damaged cells aside."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("store", help="check a results store", description="Check the cells of a results store.")
    st_sub = st.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    v = st_sub.add_parser("verify", help="read every file of every cell; --repair sets damaged ones aside",
                          description="Read every file of every cell in full and check it against the cell manifest. "
                          "Exit 1 if a cell is damaged or incomplete. --repair moves damaged files (a cell whose "
                          "generations are damaged: the whole cell) to RESULTS/damaged/ (never deletes), so the next "
                          "sweep recomputes them. A cell without its manifest (a run was interrupted) is reported as incomplete; "
                          "a sweep or run completes it.")
    v.add_argument("results", type=Path, help="results directory")
    v.add_argument("--repair", action="store_true", help="set damaged cells and files aside (never deletes)")
    v.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from ..errors import CrevalError
    from ..store import Store
    from .render import to_json

    store = Store(args.results)
    if not store.exists():
        raise CrevalError(f"{args.results}: not a results store (no cells/ folder)")
    store.check_layout()
    report = []
    for key in store.cells():
        problems = store.verify(key)
        state = "damaged" if problems else ("ok" if store.is_finished(key) else "incomplete")
        entry = {"cell": key, "state": state, "problems": problems}
        if args.repair and problems:
            entry["moved_to"] = str(store.repair(key))
        report.append(entry)
    bad = [r for r in report if r["state"] != "ok"]
    if args.json:
        print(to_json(report))
    else:
        for r in bad:
            print(f"{r['cell']}: {r['state']}" + "".join(f"\n  {p}" for p in r["problems"]) +
                  (f"\n  moved to {r['moved_to']}" if "moved_to" in r else ""))
        print(f"{len(report)} cells: {len(report) - len(bad)} ok, {sum(r['state'] == 'damaged' for r in report)} damaged, "
              f"{sum(r['state'] == 'incomplete' for r in report)} incomplete (a sweep or run completes them)")
    return 1 if bad and not args.repair else 0
