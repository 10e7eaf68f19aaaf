"""The testbed over several seeds: the order experiment of docs/testbed.md ("The order experiment").

    python benchmarks/testbed_seeds.py train --seeds 0-9 --schedules structured-first,creative-first --out seeds.jsonl
    python benchmarks/testbed_seeds.py train --seeds 0-4 --schedules structured-only,creative-only,joint,creative-only-validity --out seeds.jsonl
    python benchmarks/testbed_seeds.py report seeds.jsonl

``train``: per seed the default configuration (cached warm-up, 300 RL steps, 16 prompts x 8 samples per
step) under each schedule, a checkpoint every 25 steps, every checkpoint evaluated directly (not through
`creval sweep`, which costs minutes per schedule here) with 8 samples per prompt at T = 1 on 100 math and
100 code prompts (the toy tasks' 30 are their first 30) and the creative task's 50. Each row keeps the
per-prompt values: pass@1 (math, code); distinct-1 and validity (creative); the mean per-token entropy of
the sampling distribution over the answers. ``creative-only-validity`` is creative-only with the creative
reward without its novelty bonus (validity alone). (seed, schedule) pairs already complete in the output
are skipped, so an interrupted run resumes.
``report``: the tables of docs/testbed.md (see its section for what each means).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

FAMILIES = ("math", "code", "creative")
EVAL = {"math": 100, "code": 100, "creative": 50}
VARIANTS = {"creative-only-validity": ("creative-only", {"novelty_bonus": False})}
STEPS, EVERY = 300, 25


def evaluate(model, tok) -> dict[str, dict[str, list[float]]]:
    """family -> statistic -> per-prompt values on the evaluation prompts."""
    import torch

    from creval.metrics.distinct_n import distinct_n
    from creval.testbed.policy import pad, sample, token_logprobs
    from creval.testbed.toy import code_reward, creative_valid, eval_items, math_reward

    gen, out = torch.Generator().manual_seed(0), {}
    for fam in FAMILIES:
        items = eval_items(fam, EVAL[fam])
        drawn = sample(model.eval(), tok, [it[0] for it in items], 8, 8, gen)
        batch, stats = [], {"entropy": []}
        for it, samples in zip(items, drawn):
            prompt_ids = tok(f"{it[0]} ")["input_ids"]
            batch += [(prompt_ids + ids, len(prompt_ids)) for _, ids in samples]
            texts = [text for text, _ in samples]
            if fam == "creative":
                stats.setdefault("distinct", []).append(distinct_n(texts, 1))
                stats.setdefault("validity", []).append(sum(creative_valid(it[0], t.strip()) for t in texts) / len(texts))
            else:
                right = [math_reward(it[0], t) if fam == "math" else code_reward(it[0], t, it[2]) for t in texts]
                stats.setdefault("score", []).append(sum(right) / len(right))
        ids, mask, target = pad(tok, batch)
        with torch.no_grad():
            _, entropy = token_logprobs(model, ids, mask)
        t = target[:, 1:].float()
        summed = (entropy * t).sum(1).view(len(items), 8).sum(1)  # rows are prompt-major, 8 samples each
        tokens = t.sum(1).view(len(items), 8).sum(1)
        stats["entropy"] = (summed / tokens.clamp(min=1)).tolist()  # per prompt: over its samples' answer tokens
        stats["tokens"] = tokens.tolist()  # so the family's per-token mean can be recovered
        out[fam] = {k: [round(v, 5) for v in vals] for k, vals in stats.items()}
    return out


def load(path: Path) -> list[dict]:
    """The rows of ``path``, the last one kept where a (seed, schedule, step) was written twice (a resumed run)."""
    rows = {}
    if path.is_file():
        for line in path.open():
            r = json.loads(line)
            rows[(r["seed"], r["schedule"], r["step"])] = r
    return list(rows.values())


def train(seeds: list[int], schedules: list[str], out: Path, work: Path) -> None:
    import time

    from transformers import AutoModelForCausalLM

    from creval.checkpoints import cache_dir
    from creval.testbed.policy import warm_policy
    from creval.testbed.train import TrainConfig
    from creval.testbed.train import train as run

    done = {(r["seed"], r["schedule"]) for r in load(out) if r["step"] == STEPS}
    for seed in seeds:
        base = TrainConfig(seed=seed, steps=STEPS, every=EVERY)
        model, tok, _ = warm_policy(seed, base.warmup_steps, base.warmup_lr, cache_dir() / "testbed")
        for name in schedules:
            if (seed, name) in done:
                continue
            start = time.time()
            schedule, changes = VARIANTS.get(name, (name, {}))
            cfg = dataclasses.replace(base, **changes)
            for step, stage, path in run(schedule, work / f"s{seed}" / name, cfg, warm=(model, tok)):
                row = {"seed": seed, "schedule": name, "step": step, "stage": stage,
                       **evaluate(AutoModelForCausalLM.from_pretrained(path), tok)}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
            print(f"seed {seed}: {name} done in {time.time() - start:.0f} s", flush=True)


def seed_range(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    t = sub.add_parser("train", help="train and evaluate; appends rows to --out")
    t.add_argument("--seeds", required=True, help="e.g. 0-9 or 0,1,2")
    t.add_argument("--schedules", required=True, help="comma-separated schedules, or creative-only-validity")
    t.add_argument("--out", type=Path, required=True, help="the JSON-lines file the rows are appended to")
    t.add_argument("--work", type=Path, default=Path("testbed-seeds"), help="where checkpoints go")
    r = sub.add_parser("report", help="the tables of docs/testbed.md from a rows file")
    r.add_argument("path", type=Path)
    args = parser.parse_args()
    if args.action == "train":
        train(seed_range(args.seeds), [s.strip() for s in args.schedules.split(",")], args.out, args.work)
    else:
        from testbed_report import report

        report(load(args.path))


if __name__ == "__main__":
    main()
