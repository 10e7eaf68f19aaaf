"""The testbed's policies: building one, its supervised warm-up (cached on disk per seed and
configuration), and the tensor plumbing RL shares with it (padding, token log-probabilities, sampling).

The warm-up is the costly part of a run (1,500 steps of 64 examples) and is identical for every
schedule of a seed, so it is saved once under the creval cache, keyed by a hash of everything that
determines it, and loaded by every later schedule, experiment and demo run of that seed.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .toy import code_item, creative_item, math_item

# bump when the warm-up's code changes what it produces: cached warm-ups of the old code are then not reused
WARMUP_VERSION = 3
WARMUP_BATCH = 64


def item(family: str, rng: random.Random) -> tuple[str, str, Any]:
    """A training item of a family: (prompt, a reference answer, the hidden check of code or None)."""
    if family == "math":
        return (*math_item(rng), None)
    if family == "code":
        return code_item(rng)
    return (*creative_item(rng), None)


ALL = ("math", "code", "creative")


def warmup_corpus(seed: int, count: int = 3000, families: tuple[str, ...] = ALL) -> list[tuple[str, str]]:
    rng = random.Random(f"warmup-{seed}")
    return [item(families[i % len(families)], rng)[:2] for i in range(count)]


def build_policy(path: Path, seed: int, families: tuple[str, ...] = ALL) -> tuple[Any, Any]:
    """A fresh tokenizer and random-init GPT-2 for the seed (saved under ``path``). The context
    (1,024 positions) is far beyond the toy prompts so `creval run` can evaluate a checkpoint on the mini suite."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from .tokenizer import build_tokenizer

    path.mkdir(parents=True, exist_ok=True)
    corpus = [f"{p} {a}" for p, a in warmup_corpus(seed, families=families)]
    build_tokenizer(path, corpus, vocab_size=320, chat=False)
    tok = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=1024, n_embd=64, n_layer=2, n_head=2,
                                       bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                                       pad_token_id=tok.eos_token_id))
    return model, tok


def encode(tok: Any, prompt: str, answer: str) -> tuple[list[int], int]:
    ids = tok(f"{prompt} ")["input_ids"]
    return ids + tok(answer)["input_ids"] + [tok.eos_token_id], len(ids)


@contextmanager
def torch_settings(*, deterministic: bool = False) -> Iterator[None]:
    """One torch thread (and deterministic algorithms if asked) inside the block, the caller's settings
    restored after it: a library call leaves the process's torch as it found it. One thread: a model this
    small gains nothing from two, and on a busy machine their spin-waits made a step 16x slower (1.6 s vs
    0.1 s measured with other jobs running)."""
    import torch

    threads, was_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    if deterministic:
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(was_deterministic)


def warmup(model: Any, tok: Any, seed: int, steps: int, lr: float, on_step: Callable[[float], None] | None = None,
           families: tuple[str, ...] = ALL) -> None:
    """Supervised warm-up: cross-entropy on the answer tokens of the seed's corpus (dropout on)."""
    import torch

    with torch_settings():
        corpus = [encode(tok, p, a) for p, a in warmup_corpus(seed, families=families)]  # tokenized once: a fifth of a step's cost
        rng = random.Random(f"warmup-order-{seed}")
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        model.train()
        for _ in range(steps):
            batch = [corpus[rng.randrange(len(corpus))] for _ in range(WARMUP_BATCH)]
            ids, mask, target = pad(tok, batch)
            logp, _ = token_logprobs(model, ids, mask)
            t = target[:, 1:]
            loss = -(logp * t).sum() / t.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if on_step:
                on_step(loss.item())


def warm_policy(seed: int, steps: int, lr: float, cache: Path | None, *,
                on_step: Callable[[float], None] | None = None, families: tuple[str, ...] = ALL) -> tuple[Any, Any, bool]:
    """The seed's warmed-up (model, tokenizer) and whether it came from ``cache`` (a folder; None: no cache).
    ``families``: the task families of its corpus and tokenizer (a subset makes a smaller testbed)."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    config = [WARMUP_VERSION, seed, steps, lr, WARMUP_BATCH] + ([list(families)] if families != ALL else [])
    key = hashlib.sha256(json.dumps(config).encode()).hexdigest()[:16]
    folder = cache / f"warmup-s{seed}-{key}" if cache else None
    if folder and (folder / "done").is_file():
        return GPT2LMHeadModel.from_pretrained(folder), AutoTokenizer.from_pretrained(folder), True
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        model, tok = build_policy(Path(tmp) / "tokenizer", seed, families)
    warmup(model, tok, seed, steps, lr, on_step, families)
    if folder:
        model.save_pretrained(folder)
        tok.save_pretrained(folder)
        (folder / "done").write_text("")  # written last: a warm-up interrupted mid-save is redone
    return model, tok, False


def pad(tok: Any, batch: list[tuple[list[int], int]]) -> tuple[Any, Any, Any]:
    """Right-padded ids, attention mask, and the mask of answer tokens (from each row's start on)."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), tok.eos_token_id)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    target = torch.zeros((len(batch), width), dtype=torch.bool)
    for i, (seq, start) in enumerate(batch):
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
        target[i, start : len(seq)] = True
    return ids, mask, target


def token_logprobs(model: Any, ids: Any, mask: Any) -> tuple[Any, Any]:
    """Per position: the log-probability of the next token, and the entropy of the next-token distribution."""
    import torch

    logits = model(ids, attention_mask=mask).logits[:, :-1].float()
    logp_all = torch.log_softmax(logits, -1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp_all.gather(2, ids[:, 1:, None])[..., 0], entropy


def sample(model: Any, tok: Any, prompts: list[str], group: int, max_new_tokens: int,
           gen: Any) -> list[list[tuple[str, list[int]]]]:
    """``group`` samples (text, token ids incl. a final eos if one was sampled) per prompt at
    temperature 1. Prompts of one token length are sampled as one batch (no padding needed)."""
    import torch

    eos = tok.eos_token_id
    encoded = [tok(f"{p} ")["input_ids"] for p in prompts]
    by_length: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        by_length.setdefault(len(ids), []).append(i)
    out: list[list[tuple[str, list[int]]]] = [[] for _ in prompts]
    with torch.no_grad():
        for length, members in by_length.items():
            cur = torch.tensor([encoded[i] for i in members for _ in range(group)])
            done = torch.zeros(len(cur), dtype=torch.bool)
            step_in, past = cur, None
            for _ in range(max_new_tokens):  # with the KV cache: sampling was 3/4 of an RL step without it
                result = model(step_in, cache=past, use_cache=True)
                past = result.cache
                probs = torch.softmax(result.logits[:, -1].float(), -1)
                nxt = torch.where(done, eos, torch.multinomial(probs, 1, generator=gen)[:, 0])
                step_in = nxt[:, None]
                cur = torch.cat([cur, step_in], dim=1)
                done |= nxt == eos
                if bool(done.all()):
                    break
            for row, seq in enumerate(cur[:, length:].tolist()):
                ids = seq[: seq.index(eos) + 1] if eos in seq else seq
                text = tok.decode(ids[:-1] if ids and ids[-1] == eos else ids)
                out[members[row // group]].append((text, ids))
    return out
