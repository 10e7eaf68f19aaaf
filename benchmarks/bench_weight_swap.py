"""One vLLM engine per schedule, weights swapped in place, against an engine restarted per checkpoint:
the same sweep (one schedule of ``--checkpoints`` checkpoints, mini_writing, n = 4) both ways, side by
side, with the time of each and the saving. Run where vLLM is installed (e.g. ``.tox/vllm/bin/python``,
with VLLM_CPU_KVCACHE_SPACE=1 VLLM_ENABLE_V1_MULTIPROCESSING=0 on a CPU).

Usage: python benchmarks/bench_weight_swap.py [--checkpoints 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tiny.py: the tests' tiny checkpoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoints", type=int, default=5)
    args = parser.parse_args()

    from tiny import build_checkpoint, sharpen

    from creval.manifest import load_manifest
    from creval.sweep import sweep

    root = Path(tempfile.mkdtemp(prefix="creval-bench-swap-"))
    base = build_checkpoint(root / "base")
    paths = [sharpen(base, root / f"step-{i}", 1.0 + i) for i in range(args.checkpoints)]

    def manifest(name: str):
        path = root / f"{name}.yaml"
        path.write_text("tasks: [mini_writing]\nmetrics: [distinct_n]\ngeneration: {n: 4, max_new_tokens: 16}\n"
                        "backend: vllm\nbackend_options: {dtype: float32, enforce_eager: true, max_model_len: 512}\n"
                        f"results: {root / name}\nschedules:\n  s:\n    checkpoints:\n"
                        + "".join(f"      - {{path: {p}, step: {i}}}\n" for i, p in enumerate(paths)))
        return load_manifest(path)

    times = {}
    for name, reuse in (("restart per checkpoint", False), ("one engine, weights swapped", True)):
        start = time.perf_counter()
        sweep(manifest(name.split()[0]), reuse_engines=reuse)
        times[name] = time.perf_counter() - start
    print(f"vLLM sweep of {args.checkpoints} checkpoints x mini_writing (20 prompts x 4 samples)")
    for name, seconds in times.items():
        print(f"{name:30}{seconds:8.2f} s")
    restart, swap = times["restart per checkpoint"], times["one engine, weights swapped"]
    print(f"saving: {restart - swap:.2f} s ({restart / swap:.2f}x faster)")


if __name__ == "__main__":
    main()
