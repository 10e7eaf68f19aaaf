"""Final-answer extraction and math-verify comparison, shared by the math tasks.

Extraction rules, tried in order; the first that matches wins and is recorded with the answer:
``boxed`` (the last ``\\boxed{...}``, braces balanced), ``hash`` (GSM8K's ``#### N``), ``answer-is``
(the last "the answer is N"), ``a-colon`` (the last line starting "A: N"), ``last-number`` (the last
number in the text, commas removed).
"""
from __future__ import annotations

import re
import threading

from functools import cache

_NUMBER = r"-?\$?\d[\d,]*(?:\.\d+)?|-?\$?\.\d+"
_HASH = re.compile(r"####\s*(.+)")
_ANSWER_IS = re.compile(r"answer is[:\s]*\$?\s*(" + _NUMBER + r"|\\frac\{[^{}]*\}\{[^{}]*\}|[^\s.,;]+)", re.I)
_A_COLON = re.compile(r"^\s*A:\s*(" + _NUMBER + r")\s*\.?\s*$", re.M)
_LAST_NUMBER = re.compile(_NUMBER)


@cache
def _math_verify() -> tuple:
    """math-verify, imported on first use (it pulls in sympy: half a second that listing or planning
    tasks does not need): (parse, verify, extraction configs)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    return parse, verify, (LatexExtractionConfig(), ExprExtractionConfig())


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
    colon = _A_COLON.findall(text)
    if colon:
        return _clean_number(colon[-1]), "a-colon"
    numbers = _LAST_NUMBER.findall(text)
    if numbers:
        return _clean_number(numbers[-1]), "last-number"
    return None, None


def _timeout() -> int | None:
    """math-verify times out with ``signal.alarm``, which works only in the main thread."""
    return 5 if threading.current_thread() is threading.main_thread() else None


def parse_answer(text: str) -> list:
    """math-verify's parse of one final answer; LaTeX is read as if boxed, so ``\\frac12`` and
    ``(1, 2)`` parse as math, not as prose."""
    timeout = _timeout()
    parse, _, config = _math_verify()
    parsed = parse(f"\\boxed{{{text}}}", list(config), parsing_timeout=timeout)
    return parsed or parse(text, list(config), parsing_timeout=timeout)


def answers_match(gold: str, answer: str) -> bool:
    """math-verify equivalence of two final answers (numbers, fractions, LaTeX expressions)."""
    g, a = parse_answer(gold), parse_answer(answer)
    return bool(g and a and _math_verify()[1](g, a, timeout_seconds=_timeout()))


def verify_whole_response(gold: str, response: str) -> bool:
    """math-verify on the whole response with its own extraction (no creval extraction chain)."""
    timeout = _timeout()
    parse, verify, _ = _math_verify()
    parsed = parse(response, parsing_timeout=timeout)
    return bool(parsed and verify(parse_answer(gold), parsed, timeout_seconds=timeout))


def extract_text_answer(text: str) -> tuple[str, str]:
    """For non-numeric answers: boxed, ``####``, "the answer is ...", else the last non-empty line."""
    boxed = last_boxed(text)
    if boxed:
        return boxed, "boxed"
    hashes = _HASH.findall(text)
    if hashes:
        return hashes[-1].strip(), "hash"
    said = re.findall(r"answer is[:\s]*(.+)", text, re.I)
    if said:
        return said[-1].strip(), "answer-is"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else ""), "last-line"


def normalize_text(text: str | None) -> str:
    """Lower case, single spaces, no surrounding quotes, ``$``, or final period."""
    text = " ".join((text or "").lower().split())
    return text.strip("\"'`$ ").rstrip(".").strip()
