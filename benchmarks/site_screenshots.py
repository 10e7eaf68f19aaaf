"""The screenshots of docs/leaderboards.md, from the demo's site, with the checks of the browser test:

    python benchmarks/site_screenshots.py                    # creval demo --quick into a temporary folder
    python benchmarks/site_screenshots.py --demo creval-demo # an existing demo folder (full or quick)

Runs (or reuses) ``creval demo``, rebuilds its leaderboard, checks the page in headless Chromium
(``tests/site_check.check_site``: landing table, axis titles, one colour per schedule, sample viewer,
no console errors, weight, render time) and writes docs/img/leaderboard-{landing,plot,samples}.png.
Prints the page weight and the render times it measured.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    from site_check import check_site, chromium

    from creval.demo import demo

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, help="a demo folder (default: run `creval demo --quick` in a temporary one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="where the screenshots go")
    args = parser.parse_args()
    folder = args.demo or Path(tempfile.mkdtemp(prefix="creval-demo-"))
    result = demo(folder, quick=args.demo is None)  # an existing folder: finds its checkpoints and cells, rebuilds
    shots = Path(tempfile.mkdtemp(prefix="creval-shots-"))
    driver = chromium()
    try:
        measured = check_site(driver, result.site, shots=shots, sample=(result.board["schedules"][0], "toy_code"))
    finally:
        driver.quit()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("landing", "plot", "samples", "probes"):  # probes: only where the results hold probe reports
        if (shots / f"{name}.png").exists():
            shutil.copyfile(shots / f"{name}.png", args.out / f"leaderboard-{name}.png")
    print(json.dumps({"site": str(result.site), **measured}, indent=1))


if __name__ == "__main__":
    main()
