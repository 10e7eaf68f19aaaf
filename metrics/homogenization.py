"""Homogenization (Padmakumar & He 2023, "Does Writing with Language Models Reduce Content
Diversity?", arXiv 2309.05196; the ``diversity`` package's ``homogenization_score`` with ROUGE-L):
the mean ROUGE-L F1 over all ordered pairs of a prompt's samples. Higher means more alike.

Tokens as ``rouge_score``'s default tokenizer makes them (lower case, every run of characters other
than a-z and 0-9 a separator, no stemming); ROUGE-L F1 = 2PR / (P + R) from the longest common
subsequence (computed bit-parallel here; ``rouge_score`` fills the O(m*n) table), 0 when either side
is empty. Differences from the package: it returns 1.0 when every pair scores 0 (its comment means the
case of identical samples, but the test it makes fires on completely disjoint samples); creval returns
0.0 there. It rounds to 3 decimals; creval does not. Fewer than two samples gives NaN.

Text outside a-z and 0-9 (emoji, CJK, Cyrillic, accented letters alone) has no ROUGE tokens, so nine
identical emoji answers would score 0.0, maximally diverse. With ``tok=rouge`` (the default) a prompt
any of whose samples has text but no tokens is therefore NaN, left out of the mean, and
``homogenization-untokenized`` (1 for such a prompt, else 0) reports how many were left out.
``tok=unicode`` is a variant for such text: case-folded (NFKC), each run of letters and digits of any
script a token, except that every character of the scripts written without spaces (Han, kana, Thai)
and every other character that is not a space or punctuation (emoji, symbols) is a token of its own.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._lcs import lcs_length, match_masks
from .scope import TextMetric

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"  # kana, Han, Thai
_UNICODE_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W_{_UNSPACED}]+|[^\w\s]")


def rouge_tokens(text: str) -> list[str]:
    return [t for t in _NON_ALNUM.sub(" ", text.lower()).split() if t]


def unicode_tokens(text: str) -> list[str]:
    tokens = _UNICODE_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    return [t for t in tokens if not unicodedata.category(t[0]).startswith("P")]  # as ROUGE, no punctuation


TOKENIZERS = {"rouge": rouge_tokens, "unicode": unicode_tokens}


def untokenized(texts: Sequence[str], tok: str = "rouge") -> bool:
    """Whether some sample has text but no tokens (its pairs would all score 0: falsely diverse)."""
    return any(t.strip() and not TOKENIZERS[tok](t) for t in texts)


def homogenization(texts: Sequence[str], tok: str = "rouge") -> float:
    tokens = [TOKENIZERS[tok](t) for t in texts]
    if len(tokens) < 2 or untokenized(texts, tok):
        return float("nan")
    masks = [match_masks(t) for t in tokens]
    total = 0.0
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens)):
            a, b = tokens[i], tokens[j]
            if a and b:
                lcs = lcs_length(masks[i], len(a), b)
                if lcs:
                    p, r = lcs / len(b), lcs / len(a)
                    total += 2 * p * r / (p + r)
    pairs = len(tokens) * (len(tokens) - 1) / 2
    return total / pairs


@dataclass
class Homogenization(TextMetric):
    name = "homogenization"
    version = "2"  # 2: prompts with untokenizable samples are NaN, not 0.0
    description = "mean pairwise ROUGE-L F1 between a prompt's samples (higher: more alike)"
    tok: str = "rouge"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tok not in TOKENIZERS:
            raise CrevalError(f"metric 'homogenization': tok must be rouge or unicode, got {self.tok!r}")

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["homogenization-rougel", "homogenization-untokenized"]

    def text_fields(self) -> dict[str, str]:
        return {"tok": self.tok, "stem": "no"}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        return {"homogenization-rougel": homogenization(texts, self.tok),
                "homogenization-untokenized": float(untokenized(texts, self.tok))}
