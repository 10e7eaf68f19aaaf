"""A byte-level BPE tokenizer trained in seconds with ``tokenizers`` on a given corpus, saved as a
``transformers`` tokenizer: the testbed's policies (and the tests' tiny checkpoints) use it."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
EOS = "<|endoftext|>"


def build_tokenizer(path: Path, corpus: Iterable[str], *, vocab_size: int = 384, chat: bool = True) -> None:
    """Train on ``corpus`` and save under ``path``; ``chat``: with a chat template (roles as special tokens)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    specials = [EOS, "<|user|>", "<|assistant|>", "<|system|>"]
    bpe.train_from_iterator(list(corpus), vocab_size=vocab_size, min_frequency=1, special_tokens=specials,
                            show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOS, bos_token=EOS, pad_token=EOS)
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(path)
