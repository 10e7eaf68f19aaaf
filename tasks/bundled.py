"""Reading the offline mini suite shipped in ``creval/tasks/data``."""
from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def read_bundled(filename: str) -> list[dict[str, Any]]:
    text = files("creval.tasks").joinpath("data").joinpath(filename).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
