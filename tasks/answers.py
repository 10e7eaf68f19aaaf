"""Final-answer extraction and math-verify comparison, shared by the math tasks.

Extraction rules, tried in order; the first that matches wins and is recorded with the answer:

1. ``boxed``: the last ``\\boxed{...}`` or ``\\fbox{...}`` (braces balanced), or ``\\boxed 5`` without
   braces (its next token);
2. ``hash``: the text after the last ``####`` (GSM8K's solution format);
3. ``answer-is``: the value right after the last "the answer is" (markdown emphasis and math
   delimiters skipped): a LaTeX, mixed or slash fraction, a number (``$``, ``%`` kept for math-verify),
   ``x = N``, or a comma-separated list of these that ends the sentence; else the next word;
4. ``a-colon``: the last line of the form ``A: N``;
5. ``last-number``: the last number or slash fraction in the text.

Every answer is then tidied (``tidy``): markdown emphasis and ``$`` delimiters around it, ``\\$``
money signs and a final period are removed; a comma is a thousands separator only between groups of
exactly three digits (``1,000`` is 1000; ``1,2,3`` and ``2,5`` stay lists); a mixed number ``2 1/2``
becomes ``2\\frac{1}{2}``; ``\\text{5 cm}`` becomes ``5\\text{ cm}``. The rest is math-verify's: it
reads money, percent (``25\\%`` equals 25 and 0.25), degrees, LaTeX fractions, lists, sets,
intervals, ``x = 3`` (equals 3) and leading zeros, and keeps ``0.333`` apart from ``\\frac{1}{3}``.
math-verify equates ``25\\%`` with 25 but not ``12.5\\%`` with 12.5 (its leniency covers integers only);
``answers_match`` extends it to every number: an answer and a gold that differ only by a final ``%``
also match.
"""
from __future__ import annotations

import re
import threading
from functools import cache

# A number: thousands groups of exactly three digits, or plain digits; never other commas.
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+"
# A minus sign, not a hyphen after a word, digit or bracket ("5-3", "x-3").
_SIGN = r"(?:(?<![\w)\]}])-)?"
_FRAC = r"\\[dt]?frac\s*(?:\{[^{}]*\}\s*\{[^{}]*\}|\d\d)"
_VALUE = (rf"{_SIGN}\\?\$?\s*(?:\d+\s+\d+/\d+(?![\d/])|{_FRAC}|(?:{_NUM})/(?:{_NUM})(?![\d/])"
          rf"|(?:{_NUM})(?:\s*\\?%)?)")
_HASH = re.compile(r"####\s*(.+)")
_ANSWER_IS = re.compile(r"answer is[:\s]*(.*)", re.I)
# A list only where it ends the sentence: "1, 2, 3." is a list, "20, 5 of them red" is 20.
_ANSWER_VALUE = re.compile(rf"\s*((?:[a-zA-Z]\s*=\s*)?{_VALUE}(?:(?:\s*,\s*{_VALUE})+(?=\s*(?:[.;!](?:\s|$)|$)))?)")
_WORD = re.compile(r"\s*([^\s.,;]+)")
_A_COLON = re.compile(rf"^\s*A:\s*({_VALUE})\s*\.?\s*$", re.M)
_LAST_VALUE = re.compile(_VALUE)
_MARKUP = re.compile(r"\*\*|__|`|\\\(|\\\)|\\\[|\\\]|(?<!\\)\$")
_THOUSANDS = re.compile(r"(?<![\d,.])\d{1,3}(?:(?:,|\{,\})\d{3})+(?!,?\d)")
_MIXED = re.compile(r"(-?)(\d+)\s+(\d+)/(\d+)")
_TEXT_UNIT = re.compile(rf"\\(?:text|mbox|textrm|mathrm)\{{\s*({_NUM})\s*([^{{}}]*)\}}")
_PERCENT = re.compile(r"\s*\\?%\s*$")
# The identity of this chain and comparison in task hashes: bump it when a verdict can change.
MATH_GRADER = "extract-chain+math-verify/3"


@cache
def _math_verify() -> tuple:
    """math-verify, imported on first use (it pulls in sympy: half a second that listing or planning
    tasks does not need): (parse, verify, extraction configs)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    return parse, verify, (LatexExtractionConfig(), ExprExtractionConfig())


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), nested braces balanced, or the token
    after a brace-less ``\\boxed 5``; None when there is none or its braces never close."""
    found = list(re.finditer(r"\\(?:boxed|fbox)(?![a-zA-Z])\s*", text))
    if not found:
        return None
    i = found[-1].end()
    if not text.startswith("{", i):
        bare = re.match(r"[^\s$]+", text[i:])
        return bare.group(0).rstrip(".,;") if bare else None
    depth = 1
    for j in range(i + 1, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j].strip()
    return None


def tidy(answer: str) -> str:
    """One extracted answer in the form math-verify reads best (see the module docstring)."""
    s = answer.strip()
    while True:  # emphasis and delimiters around the answer, possibly nested: **$42$**
        wrapped = (re.fullmatch(r"(\*\*|__|\*|_|`|\$)(?P<body>.+)\1", s, re.S)
                   or re.fullmatch(r"\\[(\[](?P<body>.+)\\[)\]]", s, re.S))
        if not wrapped:
            break
        s = wrapped.group("body").strip()
    s = s.replace("\\$", "").replace("$", "").strip().rstrip(".").strip()
    s = _THOUSANDS.sub(lambda m: m.group(0).replace("{,}", "").replace(",", ""), s)
    if _MIXED.fullmatch(s):
        s = _MIXED.sub(r"\1\2\\frac{\3}{\4}", s)
    unit = _TEXT_UNIT.fullmatch(s)
    if unit:
        s = unit.group(1) + (f"\\text{{ {unit.group(2).strip()}}}" if unit.group(2).strip() else "")
    return s


def _answer_is(text: str) -> str | None:
    said = _ANSWER_IS.findall(text)
    if not said:
        return None
    rest = _MARKUP.sub("", said[-1])
    value = _ANSWER_VALUE.match(rest) or _WORD.match(rest)
    return value.group(1) if value else None


def extract_answer(text: str) -> tuple[str | None, str | None]:
    """(answer, rule) for the first rule that matches, or (None, None)."""
    boxed = last_boxed(text)
    if boxed:
        return tidy(boxed), "boxed"
    hashes = _HASH.findall(text)
    if hashes:
        return tidy(hashes[-1]), "hash"
    said = _answer_is(text)
    if said:
        return tidy(said), "answer-is"
    colon = _A_COLON.findall(text)
    if colon:
        return tidy(colon[-1]), "a-colon"
    values = _LAST_VALUE.findall(text)
    if values:
        return tidy(values[-1]), "last-number"
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


def _verify(gold: str, answer: str) -> bool:
    g, a = parse_answer(gold), parse_answer(answer)
    return bool(g and a and _math_verify()[1](g, a, timeout_seconds=_timeout()))


def answers_match(gold: str, answer: str) -> bool:
    """math-verify equivalence of two final answers (numbers, fractions, LaTeX expressions), a
    percent sign on one side only ignored for any number, as math-verify ignores it for integers."""
    if _verify(gold, answer):
        return True
    bare_gold, bare_answer = _PERCENT.sub("", gold), _PERCENT.sub("", answer)
    return (bare_gold, bare_answer) != (gold, answer) and _verify(bare_gold, bare_answer)


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
