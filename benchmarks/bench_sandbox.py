"""Code-execution throughput: creval's sandbox vs the approach of OpenAI's human-eval ``execution.py``.

Workload: the 164 HumanEval canonical solutions x ``--copies`` (default 10), each run with its tests.

* human-eval style (written here after its description, not copied): a thread pool; each sample in a
  ``multiprocessing`` process forked from the harness that ``exec``s the program, joined with a 3 s
  timeout and killed if still alive. No namespaces, no rlimits beyond what that process sets, the
  harness's own memory, files and network visible to the program.
* creval: ``creval.sandbox.run_many``: a fresh interpreter per sample inside bubblewrap (or rlimits
  only, if bubblewrap is missing) with the random-token pass protocol and return-type recording.

Both use the same number of workers. Prints samples/s of both and the ratio, plus the pass count
(every canonical solution passes, so both must report all of them).

Usage: python benchmarks/bench_sandbox.py [--copies 10] [--workers N] [--data ../shared/datasets/humaneval/HumanEval.jsonl.gz]
"""
from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "humaneval" / "HumanEval.jsonl.gz"


def _child(program: str, result) -> None:
    try:
        exec(program, {"__name__": "__main__"})
        result.value = 1
    except BaseException:
        result.value = 0


def forked_check(program: str, timeout: float = 3.0) -> bool:
    ctx = multiprocessing.get_context("fork")
    result = ctx.Value("i", 0)
    proc = ctx.Process(target=_child, args=(program, result))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return bool(result.value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()

    from creval.sandbox import Job, isolation_level, run_many

    with gzip.open(args.data, "rt") as f:
        rows = [json.loads(line) for line in f] * args.copies
    programs = [r["prompt"] + r["canonical_solution"] + "\n" + r["test"] + f"\ncheck({r['entry_point']})\n" for r in rows]
    jobs = [Job(r["prompt"] + r["canonical_solution"], r["test"] + f"\ncheck({r['entry_point']})\n",
                entry_point=r["entry_point"]) for r in rows]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        forked = list(pool.map(forked_check, programs))
    forked_s = time.perf_counter() - start

    start = time.perf_counter()
    ours = run_many(jobs, workers=args.workers)
    ours_s = time.perf_counter() - start

    n = len(rows)
    print(f"{n} samples (HumanEval canonical x {args.copies}), {args.workers} workers, creval isolation: {isolation_level()}")
    print(f"{'':34}{'seconds':>9}{'samples/s':>11}{'passed':>8}")
    print(f"{'human-eval style (fork + exec)':34}{forked_s:9.2f}{n / forked_s:11.1f}{sum(forked):8d}")
    print(f"{'creval sandbox':34}{ours_s:9.2f}{n / ours_s:11.1f}{sum(r.passed for r in ours):8d}")
    print(f"creval / human-eval throughput: {forked_s / ours_s:.2f}x")


if __name__ == "__main__":
    main()
