"""Sentence BLEU of each sample against the others, from n-gram counts computed once per sample.

Two definitions, each matching a well-known implementation exactly (tested against both):

* ``sacrebleu``: ``sacrebleu.sentence_bleu`` defaults: 13a tokenisation, 4-grams, "exp" smoothing
  (NIST: the k-th order without a match gets precision 1 / (2^k * total)), effective order, closest
  reference length (ties to the shorter), scores 0-100;
* ``nltk``: ``nltk.translate.bleu_score.sentence_bleu`` with uniform weights over n-gram orders
  1..N (Texygen's SelfBleu uses N = 3) and smoothing method1 (epsilon 0.1 added to zero counts),
  whitespace tokens, scores 0-1.

The references of sample i are the other k - 1 samples; their clipped counts are the maximum count of
each n-gram over them, which is what both libraries compute, once per hypothesis. Here each sample's
counts are built once and the maximum over "all but i" comes from the top two counts per n-gram.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from ._ngrams import ngrams


def _counts(tokens: Sequence[str], max_n: int) -> list[Counter]:
    return [Counter(ngrams(tokens, n)) for n in range(1, max_n + 1)]


def _top_two(all_counts: list[list[Counter]], order: int) -> dict[tuple, tuple[int, int, int]]:
    """n-gram -> (largest count, index holding it, second largest count) over the samples."""
    best: dict[tuple, tuple[int, int, int]] = {}
    for i, counts in enumerate(all_counts):
        for gram, c in counts[order].items():
            first, who, second = best.get(gram, (0, -1, 0))
            if c > first:
                best[gram] = (c, i, first)
            elif c > second:
                best[gram] = (first, who, c)
    return best


def _stats(all_counts: list[list[Counter]], max_n: int) -> list[tuple[list[int], list[int]]]:
    """Per sample: (clipped matches per order, hypothesis n-grams per order) against the others."""
    tops = [_top_two(all_counts, o) for o in range(max_n)]
    out = []
    for i, counts in enumerate(all_counts):
        correct, total = [0] * max_n, [0] * max_n
        for o in range(max_n):
            top = tops[o]
            for gram, c in counts[o].items():
                first, who, second = top[gram]
                ref = second if who == i else first
                correct[o] += min(c, ref)
                total[o] += c
        out.append((correct, total))
    return out


def _closest(hyp_len: int, ref_lens: Sequence[int]) -> int:
    return min(ref_lens, key=lambda r: (abs(r - hyp_len), r))


def self_bleu_sacrebleu(texts: Sequence[str]) -> list[float]:
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tokenize = Tokenizer13a()
    tokens = [tokenize(t.rstrip()).split() for t in texts]
    counts = [_counts(t, 4) for t in tokens]
    lens = [len(t) for t in tokens]
    scores = []
    for i, (correct, total) in enumerate(_stats(counts, 4)):
        hyp_len = lens[i]
        ref_len = _closest(hyp_len, lens[:i] + lens[i + 1 :])
        bp = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0)
        if not any(correct):
            scores.append(0.0)
            continue
        logs, smooth, order = [], 1.0, 4
        for n in range(4):
            if total[n] == 0:
                break
            order = n + 1
            if correct[n] == 0:
                smooth *= 2
                logs.append(math.log(100.0 / (smooth * total[n])))
            else:
                logs.append(math.log(100.0 * correct[n] / total[n]))
        scores.append(bp * math.exp(sum(logs[:order]) / order))
    return scores


def self_bleu_nltk(texts: Sequence[str], max_n: int = 3) -> list[float]:
    tokens = [t.split() for t in texts]
    counts = [_counts(t, max_n) for t in tokens]
    lens = [len(t) for t in tokens]
    scores = []
    for i, (correct, total) in enumerate(_stats(counts, max_n)):
        if correct[0] == 0:
            scores.append(0.0)
            continue
        hyp_len = lens[i]
        ref_len = _closest(hyp_len, lens[:i] + lens[i + 1 :])
        bp = 1.0 if hyp_len > ref_len else (0.0 if hyp_len == 0 else math.exp(1 - ref_len / hyp_len))
        logs = [math.log((c if c else 0.1) / max(1, t)) for c, t in zip(correct, total)]
        scores.append(bp * math.exp(math.fsum(lg / max_n for lg in logs)))
    return scores
