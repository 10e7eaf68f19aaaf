"""One registry for tasks, metrics and backends, fed by entry points and resolved lazily.

Third parties register under the entry-point groups ``creval.tasks``, ``creval.metrics``,
``creval.backends`` and ``creval.scorers`` (writing-quality scorers) (``name = "module:Object"``); nothing is imported until a name is used, so
``import creval`` stays fast and torch loads only when a backend needs it. The group
``creval.testbed_tasks`` holds internal tasks (the testbed's toy tasks): ``load`` finds them by name,
``available`` does not list them.
"""
from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from .errors import CrevalError

KINDS = ("tasks", "metrics", "backends", "scorers")
_INTERNAL = {"tasks": "creval.testbed_tasks"}  # kind -> its group of loadable, unlisted entries
_extra: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
_seen: dict[str, dict[str, str]] = {}  # kind -> the last reading of its entry points (a few ms each)


def register(kind: str, name: str, target: str) -> None:
    """Register ``name`` -> ``"module:Object"`` at run time (the entry points are read at every lookup)."""
    _check_kind(kind)
    _extra[kind][name] = target
    _seen.pop(kind, None)


def available(kind: str, *, internal: bool = False) -> dict[str, str]:
    """name -> "module:Object" for everything registered under ``kind``, sorted by name; ``internal``:
    with the internal entries (a public name of the same spelling wins)."""
    _check_kind(kind)
    found = {ep.name: ep.value for ep in entry_points(group=_INTERNAL[kind])} if internal and kind in _INTERNAL else {}
    found.update({ep.name: ep.value for ep in entry_points(group=f"creval.{kind}")})
    found.update(_extra[kind])
    return dict(sorted(found.items()))


def load(kind: str, name: str) -> Any:
    """The object registered as ``name``; an unknown name is a CrevalError listing the known ones."""
    targets = _seen.get(kind)
    if targets is None or name not in targets:  # read again: a package may have been installed since
        targets = _seen[kind] = available(kind, internal=True)
    if name not in targets:
        known = ", ".join(available(kind)) or "none"
        raise CrevalError(f"unknown {kind[:-1]} {name!r}; registered {kind}: {known}")
    module, _, attr = targets[name].partition(":")
    obj: Any = import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
