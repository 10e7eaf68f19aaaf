"""The analyses stored beside a results directory's cells, for the leaderboard site to show: the
weight-perturbation probe's reports (``RESULTS/probes/perturb-*.json``, docs/probes.md) and schedule
recommendations (``RESULTS/recommendations/*.json``, docs/recommend.md). Each file is one report as
its command wrote it (strict JSON, NaN as null); a file that does not parse is named in ``unreadable``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_extras(results: Path) -> dict[str, Any]:
    """{"probes": [report, ...], "recommendations": [report, ...], "unreadable": [path, ...]}, each
    list in file-name order, each report with its ``file``."""
    out: dict[str, Any] = {"probes": [], "recommendations": [], "unreadable": []}
    for kind, pattern in (("probes", "probes/perturb-*.json"), ("recommendations", "recommendations/*.json")):
        for path in sorted(Path(results).glob(pattern)):
            try:
                report = json.loads(path.read_text())
                if not isinstance(report, dict):
                    raise ValueError("not an object")
            except (OSError, ValueError):
                out["unreadable"].append(str(path))
                continue
            out[kind].append({**report, "file": str(path)})
    return out
