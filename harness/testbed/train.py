"""Training tiny policies under a schedule: supervised warm-up, then policy-gradient RL.

A run: a GPT-2 (2 layers, width 64, so the harness loads it through its normal Hugging Face path)
with its own byte-level BPE, warmed up (cross-entropy on answer tokens) on a corpus generated from the
seed, then trained with REINFORCE with a group baseline (GRPO-style: each prompt sampled ``group``
times, advantage = reward - the group's mean reward; optional KL penalty to the warm-up policy;
optional Adam reset between stages). A schedule is a list of stages, each a set of task families and
a number of steps: ``joint`` (all families every step), ``structured-first`` (math+code, then
creative), ``creative-first`` (the reverse), and the controls ``structured-only`` and
``creative-only`` of the same length. A checkpoint is saved every ``every`` steps (and after the
warm-up, as step 0) in ``checkpoint-N/``; the run writes a sweep manifest for ``creval sweep``.
Deterministic for a seed on the CPU (deterministic algorithms, per-run generators).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .toy import code_item, code_reward, creative_item, creative_rewards, math_item, math_reward

FAMILIES = {"math": "math", "code": "code", "creative": "writing"}
SCHEDULES = {
    "joint": [("joint", ("math", "code", "creative"), 1.0)],
    "structured-first": [("structured", ("math", "code"), 0.5), ("creative", ("creative",), 0.5)],
    "creative-first": [("creative", ("creative",), 0.5), ("structured", ("math", "code"), 0.5)],
    "structured-only": [("structured", ("math", "code"), 1.0)],
    "creative-only": [("creative", ("creative",), 1.0)],
}


@dataclass
class TrainConfig:
    steps: int = 200
    every: int = 50
    warmup_steps: int = 300
    prompts_per_step: int = 8
    group: int = 8
    lr: float = 2e-4
    warmup_lr: float = 3e-3
    kl: float = 0.0
    reset_optimizer: bool = True
    max_new_tokens: int = 8
    seed: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


def _item(family: str, rng: random.Random) -> tuple[str, str, Any]:
    if family == "math":
        p, a = math_item(rng)
        return p, a, None
    if family == "code":
        return code_item(rng)
    p, a = creative_item(rng)
    return p, a, None


def warmup_corpus(seed: int, count: int = 3000) -> list[tuple[str, str]]:
    rng = random.Random(f"warmup-{seed}")
    fams = ("math", "code", "creative")
    return [_item(fams[i % 3], rng)[:2] for i in range(count)]


CONTEXT = 1024  # positions; see _widen_context


def build_policy(path: Path, seed: int) -> tuple[Any, Any]:
    """A fresh tokenizer and random-init GPT-2 for the seed (saved under ``path``)."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from creval.tiny import build_tokenizer

    path.mkdir(parents=True, exist_ok=True)
    corpus = [f"{p} {a}" for p, a in warmup_corpus(seed)]
    build_tokenizer(path, vocab_size=320, corpus=corpus, chat=False)
    tok = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=64, n_layer=2, n_head=2,
                                       bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id,
                                       pad_token_id=tok.eos_token_id))
    _widen_context(model, CONTEXT, seed)
    return model, tok


def _widen_context(model: Any, positions: int, seed: int) -> None:
    """Position embeddings up to ``positions``: the first 64 rows as initialised above (the testbed's
    sequences are ~20 tokens, so training is unchanged), the rest drawn from a generator of their own
    (the global RNG, and so every later draw, is untouched). Without them ``creval run`` on the mini suite
    (prompts + 256 new tokens) would run past the context."""
    import torch

    old = model.transformer.wpe.weight.data
    gen = torch.Generator().manual_seed(seed)
    extra = torch.randn(positions - old.shape[0], old.shape[1], generator=gen) * model.config.initializer_range
    model.transformer.wpe = torch.nn.Embedding.from_pretrained(torch.cat([old, extra]), freeze=False)
    model.config.n_positions = positions


def _encode(tok: Any, prompt: str, answer: str) -> tuple[list[int], int]:
    ids = tok(f"{prompt} ")["input_ids"]
    return ids + tok(answer)["input_ids"] + [tok.eos_token_id], len(ids)


def warmup(model: Any, tok: Any, cfg: TrainConfig) -> None:
    """Supervised warm-up: cross-entropy on the answer tokens of the seed's corpus."""
    import torch

    corpus = warmup_corpus(cfg.seed)
    rng = random.Random(f"warmup-order-{cfg.seed}")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.warmup_lr)
    model.train()
    for _ in range(cfg.warmup_steps):
        batch = [_encode(tok, *corpus[rng.randrange(len(corpus))]) for _ in range(64)]
        loss = _sequence_loss(model, tok, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()


def _pad(tok: Any, batch: list[tuple[list[int], int]]) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), tok.eos_token_id)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    target = torch.zeros((len(batch), width), dtype=torch.bool)  # answer tokens (incl. eos)
    for i, (seq, start) in enumerate(batch):
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
        target[i, start : len(seq)] = True
    return ids, mask, target


def _token_logprobs(model: Any, ids: Any, mask: Any) -> Any:
    import torch

    logits = model(ids, attention_mask=mask).logits[:, :-1].float()
    return torch.log_softmax(logits, -1).gather(2, ids[:, 1:, None])[..., 0]


def _sequence_loss(model: Any, tok: Any, batch: list[tuple[list[int], int]]) -> Any:
    ids, mask, target = _pad(tok, batch)
    logp = _token_logprobs(model, ids, mask)
    t = target[:, 1:]
    return -(logp * t).sum() / t.sum()


def _sample(model: Any, tok: Any, prompts: list[str], group: int, max_new_tokens: int, gen: Any) -> list[list[str]]:
    """``group`` samples per prompt at temperature 1 (plain multinomial sampling, own generator)."""
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for p in prompts:
            cur = torch.tensor([tok(f"{p} ")["input_ids"]] * group)
            done, seqs = torch.zeros(group, dtype=torch.bool), [[] for _ in range(group)]
            for _ in range(max_new_tokens):  # sequences of ~20 tokens: no KV cache needed
                probs = torch.softmax(model(cur).logits[:, -1].float(), -1)
                nxt = torch.multinomial(probs, 1, generator=gen)[:, 0]
                for i in range(group):
                    if not done[i]:
                        if nxt[i].item() == tok.eos_token_id:
                            done[i] = True
                        else:
                            seqs[i].append(nxt[i].item())
                if bool(done.all()):
                    break
                cur = torch.cat([cur, nxt[:, None]], dim=1)
            out.append([tok.decode(s) for s in seqs])
    model.train()
    return out


def rl_step(model: Any, ref: Any, tok: Any, opt: Any, families: tuple[str, ...], cfg: TrainConfig,
            rng: random.Random, gen: Any) -> dict[str, float]:
    import torch

    items = [_item(families[i % len(families)], rng) for i in range(cfg.prompts_per_step)]
    samples = _sample(model, tok, [p for p, _, _ in items], cfg.group, cfg.max_new_tokens, gen)
    batch, advantages, rewards = [], [], {}
    for (prompt, _, hidden), answers in zip(items, samples):
        family = prompt.split()[0]
        if family == "add":
            r = [math_reward(prompt, a) for a in answers]
        elif family == "fn":
            r = [code_reward(prompt, a, hidden) for a in answers]
        else:
            r = creative_rewards(prompt, answers)
        mean = sum(r) / len(r)
        rewards.setdefault(family, []).extend(r)
        for a, ri in zip(answers, r):
            batch.append(_encode(tok, prompt, a.strip()))
            advantages.append(ri - mean)
    ids, mask, target = _pad(tok, batch)
    logp = _token_logprobs(model, ids, mask)
    t = target[:, 1:].float()
    adv = torch.tensor(advantages)
    loss = -((logp * t).sum(1) * adv).mean()
    if cfg.kl > 0 and ref is not None:
        with torch.no_grad():
            ref_logp = _token_logprobs(ref, ids, mask)
        loss = loss + cfg.kl * (((logp - ref_logp) * t).sum() / t.sum())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return {f: sum(v) / len(v) for f, v in rewards.items()}


def train(schedule: str | list, out: Path, cfg: TrainConfig, *, warm: tuple[Any, Any] | None = None,
          on_step: Callable[[int, dict], None] | None = None) -> list[tuple[int, str, Path]]:
    """Run ``schedule`` and save checkpoints under ``out``; returns (step, stage, path) of each.
    ``warm``: a warmed-up (model, tokenizer) to start from (copied), so schedules of one seed share it."""
    import copy

    import torch

    torch.use_deterministic_algorithms(True)
    stages = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    if warm is None:
        model, tok = build_policy(out / "_tok", cfg.seed)
        warmup(model, tok, cfg)
    else:
        model, tok = copy.deepcopy(warm[0]), warm[1]
    ref = copy.deepcopy(model).eval() if cfg.kl > 0 else None
    rng, gen = random.Random(f"rl-{cfg.seed}"), torch.Generator().manual_seed(cfg.seed)
    saved = [(0, stages[0][0], _save(model, tok, out / "checkpoint-0"))]
    step = 0
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    for s_index, (stage, families, share) in enumerate(stages):
        if s_index and cfg.reset_optimizer:
            opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        for _ in range(round(cfg.steps * share)):
            step += 1
            rewards = rl_step(model, ref, tok, opt, families, cfg, rng, gen)
            cfg.log.append({"step": step, "stage": stage, **rewards})
            if on_step:
                on_step(step, rewards)
            if step % cfg.every == 0:
                saved.append((step, stage, _save(model, tok, out / f"checkpoint-{step}")))
    return saved


def _save(model: Any, tok: Any, path: Path) -> Path:
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def stage_spec(schedule: str, steps: int) -> list[dict]:
    """The manifest's stages for a schedule: each stage's name, last step (exclusive) and families."""
    out, at = [], 0
    for stage, families, share in SCHEDULES[schedule]:
        at += round(steps * share)
        out.append({"name": stage, "until": at + 1, "families": sorted({FAMILIES[f] for f in families})})
    out[-1].pop("until")
    return out
