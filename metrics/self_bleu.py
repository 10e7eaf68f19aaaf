"""Self-BLEU (Zhu et al. 2018, "Texygen: A Benchmarking Platform for Text Generation Models", arXiv
1802.01886): each sample scored by BLEU against the prompt's other samples as references, averaged
over the samples. Higher means more alike (less diverse).

``impl`` selects the definition, named in the signature: ``sacrebleu`` (``sacrebleu.sentence_bleu``
defaults, 0-100) or ``nltk`` (``nltk`` sentence BLEU with method1 smoothing and ``max_n``-gram
uniform weights, 0-1, Texygen's convention; whitespace tokens where Texygen used
``nltk.word_tokenize``, which needs a data download). See ``_bleu`` for the exact computation. Fewer
than two samples gives NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._bleu import self_bleu_nltk, self_bleu_sacrebleu
from .scope import TextMetric


@dataclass
class SelfBLEU(TextMetric):
    name = "self_bleu"
    description = "BLEU of each sample against the others (sacrebleu or nltk/Texygen definition)"
    impl: str = "sacrebleu"
    max_n: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.impl not in ("sacrebleu", "nltk"):
            raise CrevalError(f"metric 'self_bleu': impl must be sacrebleu or nltk, got {self.impl!r}")

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["self-bleu"]

    def text_fields(self) -> dict[str, str]:
        if self.impl == "sacrebleu":
            return {"impl": "sacrebleu", "tok": "13a", "smooth": "exp", "max_n": "4"}
        return {"impl": "nltk", "tok": "ws", "smooth": "method1", "max_n": str(self.max_n)}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        if len(texts) < 2:
            return {"self-bleu": float("nan")}
        scores = self_bleu_sacrebleu(texts) if self.impl == "sacrebleu" else self_bleu_nltk(texts, self.max_n)
        return {"self-bleu": sum(scores) / len(scores)}
