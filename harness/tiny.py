"""Tiny real checkpoints, built in seconds with no download: the demo's trajectory and the tests' models.

A byte-level BPE tokenizer is trained with ``tokenizers`` on a small corpus; the model is a randomly
initialised GPT-2 saved with ``save_pretrained``, so it loads through exactly the code path a user's
checkpoint does. ``sharpen`` multiplies the final layer norm's weight and bias by a factor, which
multiplies every logit by it: a factor above 1 lowers the entropy of the output distribution, giving a
trajectory whose direction is known.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
EOS = "<|endoftext|>"


def _corpus() -> list[str]:
    """The bundled mini suite's own text (prompts, answers, solutions): the tokenizer knows its words."""
    from creval.tasks.bundled import read_bundled

    lines: list[str] = []
    for name in ("mini_math.jsonl", "mini_code.jsonl", "mini_writing.jsonl"):
        for row in read_bundled(name):
            lines.extend(str(v) for v in row.values())
    return lines


def build_tokenizer(path: Path, *, vocab_size: int = 384, corpus: Iterable[str] | None = None, chat: bool = True) -> None:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    specials = [EOS, "<|user|>", "<|assistant|>", "<|system|>"]
    bpe.train_from_iterator(list(corpus or _corpus()), vocab_size=vocab_size, min_frequency=1, special_tokens=specials,
                        show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOS, bos_token=EOS, pad_token=EOS)
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(path)


def build_checkpoint(
    path: str | Path, *, seed: int = 0, n_layer: int = 2, n_embd: int = 64, init_std: float = 0.3, chat: bool = True
) -> Path:
    """A random-init GPT-2 with its own tokenizer at ``path``; same seed, same bytes."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    build_tokenizer(path, chat=chat)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=1024,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=2,
        initializer_range=init_std,
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.eos_token_id,
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(path)
    return path


def sharpen(src: str | Path, dst: str | Path, factor: float) -> Path:
    """Copy checkpoint ``src`` to ``dst`` with every logit multiplied by ``factor``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dst = Path(dst)
    model = AutoModelForCausalLM.from_pretrained(src)
    with torch.no_grad():
        model.transformer.ln_f.weight.mul_(factor)
        model.transformer.ln_f.bias.mul_(factor)
    model.save_pretrained(dst)
    AutoTokenizer.from_pretrained(src).save_pretrained(dst)
    return dst
