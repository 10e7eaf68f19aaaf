"""Word tokens and n-grams shared by the lexical metrics (whitespace tokens, as sacrebleu's and the
``diversity`` package's n-gram code splits them)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence


def words(text: str, lowercase: bool = False) -> list[str]:
    return (text.lower() if lowercase else text).split()


def ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    return zip(*(tokens[i:] for i in range(n)))
