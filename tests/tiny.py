"""Tiny real checkpoints for the tests and benchmarks, built in seconds with no download.

A byte-level BPE tokenizer (creval.testbed.tokenizer) is trained on the mini suite's text; the model is a randomly
initialised GPT-2 saved with ``save_pretrained``, so it loads through exactly the code path a user's
checkpoint does. ``sharpen`` multiplies the final layer norm's weight and bias by a factor, which
multiplies every logit by it: a factor above 1 lowers the entropy of the output distribution, giving a
trajectory whose direction is known.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from creval.testbed.tokenizer import build_tokenizer


def _corpus() -> list[str]:
    """The bundled mini suite's own text (prompts, answers, solutions): the tokenizer knows its words."""
    from creval.tasks.bundled import read_bundled

    lines: list[str] = []
    for name in ("mini_math.jsonl", "mini_code.jsonl", "mini_writing.jsonl"):
        for row in read_bundled(name):
            lines.extend(str(v) for v in row.values())
    return lines


def build_checkpoint(
    path: str | Path, *, seed: int = 0, n_layer: int = 2, n_embd: int = 64, init_std: float = 0.3, chat: bool = True
) -> Path:
    """A random-init GPT-2 with its own tokenizer at ``path``; same seed, same bytes."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    build_tokenizer(path, _corpus(), chat=chat)
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
        for param in model.get_submodule("transformer.ln_f").parameters():  # its weight and bias
            param.mul_(factor)
    model.save_pretrained(dst)
    AutoTokenizer.from_pretrained(src).save_pretrained(dst)
    return dst


def fragile(src: str | Path, dst: str | Path, alpha: float) -> Path:
    """Copy checkpoint ``src`` to ``dst`` computing the same function from a sharper point of weight
    space: in every attention block the query projection (weight and bias) is multiplied by ``alpha``
    and the key projection divided by it, so every attention score q.k is unchanged, while relative
    noise on the fused ``c_attn`` tensor (its RMS now set by the queries) swamps the shrunken keys
    (the reparametrisation of Dinh et al. 2017, "Sharp Minima Can Generalize For Deep Nets")."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dst = Path(dst)
    model: Any = AutoModelForCausalLM.from_pretrained(src)
    width = model.config.n_embd
    with torch.no_grad():
        for block in model.transformer.h:
            attn = block.attn.c_attn  # Conv1D: weight [in, 3 * width] = [q | k | v], bias [3 * width]
            for tensor in (attn.weight, attn.bias):
                tensor[..., :width].mul_(alpha)
                tensor[..., width : 2 * width].div_(alpha)
    model.save_pretrained(dst)
    AutoTokenizer.from_pretrained(src).save_pretrained(dst)
    return dst
