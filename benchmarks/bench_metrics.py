"""Metric speed and agreement: creval against the implementations users would otherwise call, on the
same corpus, side by side in one run.

Corpus: ``--prompts`` groups of ``--k`` samples of about ``--words`` words each, drawn (seeded) from
the vocabulary of the shared GSM8K and NoveltyBench text, with repeated phrases so that n-grams recur
as they do in model samples. Each row scores every group with both implementations and prints the
time of each, the speed ratio and the largest difference between the values. References: the
``diversity`` package (n-gram diversity, compression ratio, self-repetition, homogenization; it rounds
to 3 decimals, so creval's values are rounded the same way before comparing), ``sacrebleu`` and
``nltk`` (self-BLEU). The slowest references run on the first ``--slow-prompts`` groups only, both
implementations on the same groups (the row says how many).

Usage: python benchmarks/bench_metrics.py [--prompts 2000] [--k 16] [--words 100] [--slow-prompts 100]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def corpus(prompts: int, k: int, words: int, seed: int = 0) -> list[list[str]]:
    text = " ".join(json.loads(line)["answer"] for line in (SHARED / "gsm8k" / "test.jsonl").read_text().splitlines())
    text += " " + " ".join(json.loads(line)["prompt"] for line in (SHARED / "noveltybench" / "curated.jsonl").read_text().splitlines())
    vocab = sorted(set(text.split()))
    rng = random.Random(seed)
    groups = []
    for _ in range(prompts):
        phrases = [" ".join(rng.choices(vocab, k=6)) for _ in range(8)]  # shared by the group's samples
        group = []
        for _ in range(k):
            parts: list[str] = []
            while sum(len(p.split()) for p in parts) < words:
                parts.append(rng.choice(phrases) if rng.random() < 0.4 else " ".join(rng.choices(vocab, k=5)))
            group.append(" ".join(parts))
        groups.append(group)
    return groups


def reference(name: str):
    spec = importlib.util.find_spec("diversity")
    if spec is None:
        raise SystemExit("pip install --no-deps diversity==0.3.1 nltk rouge-score evaluate  (the references)")
    path = f"{spec.submodule_search_locations[0]}/{name}.py"
    module_spec = importlib.util.spec_from_file_location(f"diversity_reference_{name}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def timed(fn: Callable[[Sequence[str]], float], groups: list[list[str]]) -> tuple[float, list[float]]:
    start = time.perf_counter()
    values = [fn(g) for g in groups]
    return time.perf_counter() - start, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--slow-prompts", type=int, default=100)
    args = parser.parse_args()

    import sacrebleu
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    from creval.metrics._bleu import self_bleu_nltk, self_bleu_sacrebleu
    from creval.metrics.compression_ratio import compression_ratio
    from creval.metrics.homogenization import homogenization
    from creval.metrics.ngram_diversity import ngram_diversity
    from creval.metrics.self_repetition import self_repetition

    groups = corpus(args.prompts, args.k, args.words)
    slow = groups[: args.slow_prompts]
    ngram_ref, comp_ref = reference("ngram_diversity"), reference("compression")
    rep_ref, hom_ref = reference("self_repetition"), reference("homogenization")
    smooth = SmoothingFunction().method1

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    def sacre_ref(texts: Sequence[str]) -> float:
        return mean([sacrebleu.sentence_bleu(t, list(texts[:i]) + list(texts[i + 1:])).score for i, t in enumerate(texts)])

    def nltk_ref(texts: Sequence[str]) -> float:
        toks = [t.split() for t in texts]
        return mean([sentence_bleu(toks[:i] + toks[i + 1:], h, weights=(1 / 3,) * 3, smoothing_function=smooth)
                     for i, h in enumerate(toks)])

    rows = [
        ("ngram diversity (n=4)", groups, lambda t: round(ngram_diversity(t, 4), 3), lambda t: ngram_ref.ngram_diversity_score(t, 4)),
        ("compression ratio (gzip)", groups, lambda t: round(compression_ratio(t), 3), lambda t: comp_ref.compression_ratio(t, "gzip")),
        ("self-repetition (n=4)", groups, lambda t: self_repetition(t, 4), lambda t: rep_ref.self_repetition_score(t, 4, verbose=False)),
        ("homogenization (ROUGE-L)", slow, lambda t: round(homogenization(t), 3),
         lambda t: hom_ref.homogenization_score(t, "rougel", verbose=False)),
        ("self-BLEU (sacrebleu)", slow, lambda t: mean(self_bleu_sacrebleu(t)), sacre_ref),
        ("self-BLEU (nltk, Texygen)", slow, lambda t: mean(self_bleu_nltk(t, 3)), nltk_ref),
    ]
    print(f"{args.prompts} prompts x {args.k} samples x ~{args.words} words")
    print(f"{'metric':28}{'prompts':>8}{'creval s':>10}{'reference s':>13}{'speed-up':>10}{'max |diff|':>12}")
    for name, data, ours, theirs in rows:
        ours_s, ours_v = timed(ours, data)
        theirs_s, theirs_v = timed(theirs, data)
        diff = max(abs(a - b) for a, b in zip(ours_v, theirs_v))
        print(f"{name:28}{len(data):8d}{ours_s:10.2f}{theirs_s:13.2f}{theirs_s / ours_s:9.1f}x{diff:12.2g}")


if __name__ == "__main__":
    main()
