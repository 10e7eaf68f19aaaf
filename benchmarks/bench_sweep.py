"""A no-op re-run of a completed sweep: 2 schedules x 5 checkpoints x 3 tasks, every cell already in
the store. Prints the time of ``creval sweep MANIFEST`` (a fresh process, as nightly CI runs it) next to
the interpreter start it cannot avoid (``python -c "import creval.cli.main"``), and the difference:
what the sweep itself costs when there is nothing to do, verification of every cell's manifest
included (target: under 1 s). Wall and CPU time (user + system, which a busy machine inflates less).

Usage: python benchmarks/bench_sweep.py
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tiny.py: the tests' tiny checkpoints


def timed(cmd: list[str], repeats: int = 3) -> tuple[float, float]:
    """The best (wall, CPU) seconds of ``repeats`` runs."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, (time.perf_counter() - start, cpu))
    return best


def main() -> None:
    from tiny import build_checkpoint, sharpen

    root = Path(tempfile.mkdtemp(prefix="creval-bench-sweep-"))
    base = build_checkpoint(root / "base")
    lines = ["tasks: [mini_math, mini_code, mini_writing]", "metrics: [distinct_n, token_entropy]",
             "generation: {n: 2, max_new_tokens: 4}", f"results: {root / 'results'}", "schedules:"]
    for schedule in ("joint", "staged"):
        lines.append(f"  {schedule}:\n    checkpoints:")
        for step in range(5):
            path = sharpen(base, root / schedule / f"step-{step}", 1.0 + step + (schedule == "staged"))
            lines.append(f"      - {{path: {path}, step: {step * 100}}}")
    manifest = root / "sweep.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    exe = os.path.join(os.path.dirname(sys.executable), "creval")
    subprocess.run([exe, "sweep", str(manifest)], check=True, stdout=subprocess.DEVNULL)  # fill the store
    noop = timed([exe, "sweep", str(manifest)], repeats=5)
    start = timed([sys.executable, "-c", "import creval.cli.main"], repeats=5)
    print("2 schedules x 5 checkpoints x 3 tasks = 30 cells, all stored")
    print(f"creval sweep (no-op):            {noop[0]:6.2f} s wall {noop[1]:6.2f} s CPU")
    print(f"interpreter + import creval:     {start[0]:6.2f} s wall {start[1]:6.2f} s CPU")
    print(f"the sweep's own work:            {noop[0] - start[0]:6.2f} s wall {noop[1] - start[1]:6.2f} s CPU (target < 1 s)")


if __name__ == "__main__":
    main()
