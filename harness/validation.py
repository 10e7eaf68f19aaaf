"""Typed validation at the edge: a file's data parsed into pydantic models, and a ``ValidationError``
turned into one line that names the file and the path of the bad field, e.g.
``sweep.yaml: schedules.joint.stages.0.until: expected an integer, got '100'``."""
from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import CrevalError

M = TypeVar("M", bound=BaseModel)

_EXPECTED = {
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number", "finite_number": "expected a finite number",
    "string_type": "expected a string", "bool_type": "expected true or false", "list_type": "expected a list",
    "dict_type": "expected a mapping", "model_type": "expected a mapping", "model_attributes_type": "expected a mapping",
    "missing": "missing (required)",
}


class Strict(BaseModel):
    """Fields of exactly the declared type (no ``"8"`` for 8), no unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def parse(model: type[M], data: Any, where: str | Path) -> M:
    """``data`` as a ``model``, or a ``CrevalError`` naming ``where`` and the bad field's path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # an unknown key first: a misspelt key is usually why a required one is missing
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CrevalError(f"{where}: {describe(model, errors[0])}{more}") from None


def describe(model: type[BaseModel], error: Any) -> str:
    loc = [p for p in error["loc"] if p != "[key]"]
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        known = ", ".join(_fields_at(model, loc[:-1]))
        return f"{_path(loc[:-1])}: unknown key {loc[-1]!r} (known: {known})"
    if kind in _EXPECTED:
        message = _EXPECTED[kind]
    elif kind == "literal_error":
        message = f"expected one of {ctx.get('expected')}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        message = f"expected a value {op} {next(iter(ctx.values()))}"
    elif kind == "too_short":
        message = f"expected at least {ctx.get('min_length')} item(s)"
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
    got = "" if kind in ("missing", "value_error") else f", got {_short(error.get('input'))}"
    return f"{_path(loc)}: {message}{got}"


def _path(loc: list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "top level"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unwrap(hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is list:
        return _unwrap(typing.get_args(hint)[0])
    if origin is dict:
        return _unwrap(typing.get_args(hint)[1])
    if origin is typing.Union or isinstance(hint, types.UnionType):
        models = [a for a in typing.get_args(hint) if a is not type(None)]
        return _unwrap(models[0]) if models else hint
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(hint)[0])
    return hint


def _fields_at(model: Any, loc: list[Any]) -> list[str]:
    """The field names of the model found at ``loc`` (list indexes and mapping keys step through)."""
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            model = _unwrap(model.model_fields[part].annotation)
    return sorted(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def read_text(path: Path, what: str) -> str:
    """A text file's content; unreadable or not UTF-8 is a ``CrevalError`` that says so."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CrevalError(f"{path}: {what} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise CrevalError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None


def read_yaml(path: Path, what: str) -> Any:
    """A YAML (or JSON) file's data; a syntax error names the line and column."""
    import yaml

    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CrevalError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
