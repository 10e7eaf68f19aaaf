"""Length of the longest common subsequence of two token sequences, bit-parallel (Hyyro 2004):
one big-integer step per token of the second sequence instead of a row of the O(m*n) table."""
from __future__ import annotations

from collections.abc import Hashable, Sequence


def match_masks(a: Sequence[Hashable]) -> dict[Hashable, int]:
    masks: dict[Hashable, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    return masks


def lcs_length(masks: dict[Hashable, int], m: int, b: Sequence[Hashable]) -> int:
    """LCS of ``a`` (given as its ``match_masks`` and length ``m``) and ``b``."""
    if m == 0 or not b:
        return 0
    full = (1 << m) - 1
    v = full
    for tok in b:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return m - v.bit_count()
