"""Command-line values checked where they enter: argparse types that reject what no command can use
(a batch of 0, a NaN threshold, a negative window), and a parser whose errors are one line."""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from ..errors import CrevalError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a ``CrevalError`` (one line, exit 2) instead of usage text on stderr."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("creval").strip()
        raise CrevalError(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")


def _number(kind: type, low: float | None, strict: bool, what: str) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if low is not None and (value <= low if strict else value < low):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


positive_int = _number(int, 0, True, "an integer >= 1")
nonnegative_int = _number(int, 0, False, "an integer >= 0")
finite_float = _number(float, None, False, "a finite number")
nonnegative_float = _number(float, 0, False, "a number >= 0")
positive_float = _number(float, 0, True, "a number > 0")


def output_dir(text: str) -> Path:
    """A folder to write into: it may not exist yet, but it may not be a file, nor lie under one."""
    path = Path(text).expanduser()
    for parent in (path, *path.parents):
        if parent.exists():
            if not parent.is_dir():
                where = "is a file" if parent == path else f"lies under the file {parent}"
                raise argparse.ArgumentTypeError(f"{text!r} {where}; expected a folder")
            break
    return path


def output_file(text: str) -> Path:
    """A file to write or append to: not a folder, and its folder is not a file."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; expected a file")
    output_dir(str(path.parent))
    return path


def text_file(text: str) -> Path:
    """An existing, readable UTF-8 text file (small inputs: a rewards CSV)."""
    from ..validation import read_text

    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r}: no such file")
    try:
        read_text(path, "file")
    except CrevalError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path
