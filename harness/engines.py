"""Keeping one generation engine across checkpoints of a trajectory.

Backends that can load new weights into a running engine (``swap(source) -> bool``: vLLM, for a
checkpoint of the same architecture and tokenizer) keep their engine from one checkpoint to the next;
anything else is closed and loaded anew. A swapped engine generates exactly what a freshly loaded
one would (tested against vLLM), so cells stay content-addressed by the new checkpoint.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class EngineCache:
    def __init__(self) -> None:
        self.engine: Any = None
        self.loads = 0
        self.swaps = 0

    def get(self, backend_cls: Any, source: Any, options: Mapping[str, Any]) -> Any:
        if (self.engine is not None and type(self.engine) is backend_cls and hasattr(self.engine, "swap")
                and self.engine.swap(source)):
            self.swaps += 1
            return self.engine
        self.close()
        self.engine = backend_cls.load(source, options)
        self.loads += 1
        return self.engine

    def close(self) -> None:
        if self.engine is not None and hasattr(self.engine, "close"):
            self.engine.close()
        self.engine = None
