"""Training tiny policies under a schedule: supervised warm-up, then policy-gradient RL.

A run: a GPT-2 (2 layers, width 64, so the harness loads it through its normal Hugging Face path)
with its own byte-level BPE, warmed up (cross-entropy on answer tokens) on a corpus generated from the
seed, then trained with REINFORCE with a group baseline (GRPO-style: each prompt sampled ``group``
times, advantage = reward - the group's mean reward; gradient-norm clipping; optional KL penalty to
the warm-up policy; optional Adam reset between stages). Dropout is on in the warm-up only: in RL the
loss must score the policy that sampled (with dropout on, sequence log-probabilities of the same
samples differed by 0.31 nats on average, so the gradient was for another policy), and the loss
scores the sampled token ids themselves, not a re-tokenization of their text. A schedule is a list
of stages, each a set of task families and a number of steps: ``joint`` (all families every step),
``structured-first`` (math+code, then creative), ``creative-first`` (the reverse), and the controls
``structured-only`` and ``creative-only`` of the same length. A checkpoint is saved every ``every`` steps, at the end
of every stage (backward transfer reads the stage ends) and after the warm-up (step 0) in
``checkpoint-N/``; the run writes a sweep manifest for ``creval sweep``.
Deterministic for a seed on the CPU (deterministic algorithms, one thread, per-run generators).
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .policy import item, pad, sample, token_logprobs, torch_settings, warm_policy
from .toy import code_reward, creative_rewards, math_reward

FAMILIES = {"math": "math", "code": "code", "creative": "writing"}
Stage = tuple[str, tuple[str, ...], float]  # name, the families it trains, its share of the steps
SCHEDULES: dict[str, list[Stage]] = {
    "joint": [("joint", ("math", "code", "creative"), 1.0)],
    "structured-first": [("structured", ("math", "code"), 0.5), ("creative", ("creative",), 0.5)],
    "creative-first": [("creative", ("creative",), 0.5), ("structured", ("math", "code"), 0.5)],
    "structured-only": [("structured", ("math", "code"), 1.0)],
    "creative-only": [("creative", ("creative",), 1.0)],
}


@dataclass
class TrainConfig:
    steps: int = 300
    every: int = 50
    warmup_steps: int = 1500
    prompts_per_step: int = 16
    group: int = 8
    lr: float = 1e-3
    clip: float = 1.0
    warmup_lr: float = 3e-3
    kl: float = 0.0
    reset_optimizer: bool = True
    max_new_tokens: int = 8
    novelty_bonus: bool = True  # False: the creative reward is validity alone (a control)
    seed: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


def rl_step(model: Any, ref: Any, tok: Any, opt: Any, families: tuple[str, ...], cfg: TrainConfig,
            rng: random.Random, gen: Any) -> dict[str, float]:
    """One policy-gradient step; returns the mean reward per prompt family and the mean token entropy
    of the policy over the sampled answers (``entropy``), for progress and the training log."""
    import torch

    items = [item(families[i % len(families)], rng) for i in range(cfg.prompts_per_step)]
    prompts = [p for p, _, _ in items]
    samples = sample(model, tok, prompts, cfg.group, cfg.max_new_tokens, gen)
    batch: list[tuple[list[int], int]] = []
    advantages: list[float] = []
    rewards: dict[str, list[float]] = {}
    for (prompt, _, hidden), drawn in zip(items, samples):
        family = prompt.split()[0]
        answers = [text for text, _ in drawn]
        if family == "add":
            r = [math_reward(prompt, a) for a in answers]
        elif family == "fn":
            r = [code_reward(prompt, a, hidden) for a in answers]
        else:
            r = creative_rewards(prompt, answers, cfg.novelty_bonus)
        mean = sum(r) / len(r)
        rewards.setdefault(family, []).extend(r)
        prompt_ids = tok(f"{prompt} ")["input_ids"]
        for (_, ids), ri in zip(drawn, r):
            batch.append((prompt_ids + ids, len(prompt_ids)))
            advantages.append(ri - mean)
    ids, mask, target = pad(tok, batch)
    logp, entropy = token_logprobs(model, ids, mask)
    t = target[:, 1:].float()
    adv = torch.tensor(advantages)
    loss = -((logp * t).sum(1) * adv).mean()
    if cfg.kl > 0 and ref is not None:
        with torch.no_grad():
            ref_logp, _ = token_logprobs(ref, ids, mask)
        loss = loss + cfg.kl * (((logp - ref_logp) * t).sum() / t.sum())
    opt.zero_grad()
    loss.backward()
    if cfg.clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    opt.step()
    stats = {f: sum(v) / len(v) for f, v in rewards.items()}
    stats["entropy"] = float((entropy.detach() * t).sum() / t.sum().clamp(min=1))
    return stats


def train(schedule: str | list[Stage], out: Path, cfg: TrainConfig, *, warm: tuple[Any, Any] | None = None,
          on_step: Callable[[int, dict], None] | None = None) -> list[tuple[int, str, Path]]:
    """Run ``schedule`` and save checkpoints under ``out``; returns (step, stage, path) of each.
    ``warm``: a warmed-up (model, tokenizer) to start from (copied), so schedules of one seed share it."""
    import copy

    import torch

    with torch_settings(deterministic=True):  # restored on return
        stages = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
        if warm is None:
            model, tok, _ = warm_policy(cfg.seed, cfg.warmup_steps, cfg.warmup_lr, None)
        else:
            model, tok = copy.deepcopy(warm[0]), warm[1]
        model.eval()  # dropout off for every RL forward pass: sampling and the loss score one policy
        ref = copy.deepcopy(model) if cfg.kl > 0 else None
        rng, gen = random.Random(f"rl-{cfg.seed}"), torch.Generator().manual_seed(cfg.seed)
        saved = [(0, stages[0][0], _save(model, tok, out / "checkpoint-0"))]
        step = 0
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        for s_index, (stage, families, share) in enumerate(stages):
            if s_index and cfg.reset_optimizer:
                opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
            length = round(cfg.steps * share)
            for i in range(length):
                step += 1
                stats = rl_step(model, ref, tok, opt, families, cfg, rng, gen)
                cfg.log.append({"step": step, "stage": stage, **stats})
                if on_step:
                    on_step(step, stats)
                if step % cfg.every == 0 or i == length - 1:
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
