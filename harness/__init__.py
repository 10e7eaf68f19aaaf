"""creval: creativity vs. correctness along RL training trajectories.

``creval.run(...)`` is the library entry point the ``creval run`` command wraps. Heavy modules load on
first use, so ``import creval`` stays fast.
"""
from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["CrevalError", "GenerationConfig", "__version__", "run"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from .runner import run

        return run
    if name == "GenerationConfig":
        from .records import GenerationConfig

        return GenerationConfig
    if name == "CrevalError":
        from .errors import CrevalError

        return CrevalError
    raise AttributeError(f"module 'creval' has no attribute {name!r}")
