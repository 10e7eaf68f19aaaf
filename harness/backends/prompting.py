"""How a prompt becomes model input and tokens become text, the same for every local backend: chat
prompts through the tokenizer's chat template when it has one (system message first), completion
prompts verbatim; text decoded from the sampled token ids, so two backends that sample the same tokens
report the same text."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ..records import Prompt


def render(tokenizer: Any, prompt: Prompt) -> tuple[str, bool]:
    """(text to tokenize, whether the tokenizer should add its special tokens)."""
    if prompt.style == "chat" and getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": prompt.system}] if prompt.system else []
        messages.append({"role": "user", "content": prompt.text})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), False
    return (f"{prompt.system}\n\n{prompt.text}" if prompt.system else prompt.text), True


def decode(tokenizer: Any, ids: Sequence[int], eos_ids: Collection[int], stop: Sequence[str]) -> str:
    """A sample's text: its tokens decoded (a final end-of-sequence token and special tokens dropped),
    cut before the first stop string, as vLLM leaves stop strings out."""
    ids = list(ids)
    if ids and ids[-1] in eos_ids:
        ids = ids[:-1]
    text = tokenizer.decode(ids, skip_special_tokens=True)
    cut = min((text.find(s) for s in stop if s and s in text), default=-1)
    return text[:cut] if cut >= 0 else text
