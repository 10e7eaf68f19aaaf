"""Final-answer extraction and math-verify comparison, shared by the math tasks.

Extraction rules, tried in order; the first that matches wins and is recorded with the answer:
``boxed`` (the last ``\\boxed{...}``, braces balanced), ``hash`` (GSM8K's ``#### N``), ``answer-is``
(the last "the answer is N"), ``last-number`` (the last number in the text, commas removed).
"""
from __future__ import annotations

import re
import threading

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

_NUMBER = r"-?\$?\d[\d,]*(?:\.\d+)?|-?\$?\.\d+"
_HASH = re.compile(r"####\s*(.+)")
_ANSWER_IS = re.compile(r"answer is[:\s]*\$?\s*(" + _NUMBER + r"|\\frac\{[^{}]*\}\{[^{}]*\}|[^\s.,;]+)", re.I)
_LAST_NUMBER = re.compile(_NUMBER)
_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), with nested braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j].strip()
    return None


def _clean_number(s: str) -> str:
    s = s.strip().rstrip(".").replace("$", "")
    return s.replace(",", "") if re.fullmatch(r"-?[\d,]*\.?\d+", s) else s


def extract_answer(text: str) -> tuple[str | None, str | None]:
    """(answer, rule) for the first rule that matches, or (None, None)."""
    boxed = last_boxed(text)
    if boxed:
        return _clean_number(boxed), "boxed"
    hashes = _HASH.findall(text)
    if hashes:
        return _clean_number(hashes[-1].strip()), "hash"
    said = _ANSWER_IS.findall(text)
    if said:
        return _clean_number(said[-1]), "answer-is"
    numbers = _LAST_NUMBER.findall(text)
    if numbers:
        return _clean_number(numbers[-1]), "last-number"
    return None, None


def answers_match(gold: str, answer: str) -> bool:
    """math-verify equivalence of two final answers (numbers, fractions, LaTeX expressions).

    math-verify times out with ``signal.alarm``, which works only in the main thread; elsewhere it runs
    without a timeout.
    """
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    g = parse(gold, list(_CONFIG), parsing_timeout=timeout)
    a = parse(answer, list(_CONFIG), parsing_timeout=timeout)
    return bool(g and a and verify(g, a, timeout_seconds=timeout))
