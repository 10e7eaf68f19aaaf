"""``name:key=value:key=value`` specs for parametrised tasks and metrics.

A task or metric class is a dataclass whose fields are its parameters; a spec sets them from the
command line, converting each value by the field's annotated type (int, float, str, bool, a tuple of
ints written comma-separated, or an optional one of these). Numbers are checked for what no
parameter can mean: NaN or infinity, a negative value, and 0 for an integer whose default is not 0
(an n-gram order, a k, a vocabulary size); ``limit=0`` (everything) stays allowed.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, TypeVar

from .errors import CrevalError

T = TypeVar("T")


def split_spec(spec: str) -> tuple[str, list[str]]:
    name, *assignments = spec.split(":")
    return name, assignments


def build(spec: str, cls: type[T], kind: str) -> T:
    """An instance of ``cls`` with the parameters ``spec`` sets."""
    name, assignments = split_spec(spec)
    params = {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}
    hints = typing.get_type_hints(cls) if params else {}
    kwargs: dict[str, Any] = {}
    for item in assignments:
        key, eq, raw = item.partition("=")
        if not eq or key not in params:
            known = ", ".join(params) or "none"
            raise CrevalError(f"{kind} {name!r}: bad parameter {item!r} (parameters: {known}; form key=value)")
        kwargs[key] = convert(raw, hints[key], f"{kind} {name!r}: parameter {key}")
        _check_range(kwargs[key], params[key].default, f"{kind} {name!r}: parameter {key}={raw}")
    return cls(**kwargs)


def _check_range(value: Any, default: Any, where: str) -> None:
    values = value if isinstance(value, tuple) else (value,)
    if isinstance(value, tuple) and not value:
        raise CrevalError(f"{where}: expected at least one value")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if not math.isfinite(v) or v < 0:
            raise CrevalError(f"{where}: expected a finite number >= 0")
        if isinstance(v, int) and v == 0 and (isinstance(value, tuple) or default != 0):
            raise CrevalError(f"{where}: expected an integer >= 1")


def convert(raw: str, hint: Any, where: str) -> Any:
    """``raw`` as a value of type ``hint``; a CrevalError naming ``where`` if it is not one."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else (hint,)
    options = tuple(o for o in options if o is not type(None))
    target = options[0] if options else str
    try:
        if typing.get_origin(target) is tuple:
            item = typing.get_args(target)[0]
            return tuple(item(v.strip()) for v in raw.split(",") if v.strip())
        if target is bool:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1", "yes")
        return target(raw)
    except (TypeError, ValueError):
        name = getattr(target, "__name__", str(target))
        if typing.get_origin(target) is tuple:
            name = f"comma-separated list of {typing.get_args(target)[0].__name__}"
        raise CrevalError(f"{where}={raw!r} is not a valid {name}") from None


def describe(obj: Any) -> str:
    """``name`` plus every parameter that differs from its default, as a spec."""
    parts = [obj.name]
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
            value = getattr(obj, f.name)
            if value != default:
                shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
                parts.append(f"{f.name}={shown}")
    return ":".join(str(p) for p in parts)
