"""The testbed over several seeds (the five-seed tables of docs/testbed.md):

    python benchmarks/testbed_seeds.py train --seeds 0,1,2 --out seeds.jsonl   # one process per core
    python benchmarks/testbed_seeds.py report seeds.jsonl

``train``: per seed the default configuration (cached warm-up, 300 RL steps) under structured-only,
structured-first and creative-first, every checkpoint evaluated directly (not through `creval sweep`,
which costs minutes per schedule here): the toy evaluation sets (30 math, 30 code, 10 creative
prompts), 8 samples each at T = 1; pass@1, the mean per-token entropy of the sampling distribution over
the answers, and for the creative task the share of distinct answers per prompt.
``report``: per schedule and step the mean over seeds with a 95% t interval; per seed the structured-only
entropy drop and entropy-law fit; and the per-seed paired difference structured-first - creative-first
(``creval.stats.paired``, seeds as the paired units) at the end and at matched points: each skill read
right after its own stage (structured-first step 150 vs creative-first step 300 for math and code, the
reverse for the creative task), so that an order effect is not confused with recency.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

SCHEDULES = ("structured-only", "structured-first", "creative-first")
FAMILIES = ("math", "code", "creative")


def evaluate(model, tok) -> dict[str, tuple[float, float]]:
    """family -> (score, entropy) on the toy evaluation sets."""
    import torch

    from creval.testbed.policy import pad, sample, token_logprobs
    from creval.testbed.toy import code_reward, eval_items, math_reward

    gen, out = torch.Generator().manual_seed(0), {}
    for fam in FAMILIES:
        items = eval_items(fam, 10 if fam == "creative" else 30)  # 10 letters: 10 creative prompts at most
        drawn = sample(model.eval(), tok, [it[0] for it in items], 8, 8, gen)
        batch, scores = [], []
        for it, samples in zip(items, drawn):
            prompt_ids = tok(f"{it[0]} ")["input_ids"]
            batch += [(prompt_ids + ids, len(prompt_ids)) for _, ids in samples]
            texts = [text for text, _ in samples]
            if fam == "creative":
                scores.append(len(set(texts)) / len(texts))
            else:
                scores += [math_reward(it[0], t) if fam == "math" else code_reward(it[0], t, it[2]) for t in texts]
        ids, mask, target = pad(tok, batch)
        with torch.no_grad():
            _, entropy = token_logprobs(model, ids, mask)
        t = target[:, 1:].float()
        out[fam] = (sum(scores) / len(scores), float((entropy * t).sum() / t.sum()))
    return out


def train(seeds: list[int], out: Path, work: Path) -> None:
    from transformers import AutoModelForCausalLM

    from creval.checkpoints import cache_dir
    from creval.testbed.policy import warm_policy
    from creval.testbed.train import TrainConfig
    from creval.testbed.train import train as run

    for seed in seeds:
        cfg = TrainConfig(seed=seed)
        model, tok, _ = warm_policy(seed, cfg.warmup_steps, cfg.warmup_lr, cache_dir() / "testbed")
        for schedule in SCHEDULES:
            for step, stage, path in run(schedule, work / f"s{seed}" / schedule, TrainConfig(seed=seed), warm=(model, tok)):
                row = {"seed": seed, "schedule": schedule, "step": step, "stage": stage,
                       **evaluate(AutoModelForCausalLM.from_pretrained(path), tok)}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
            print(f"seed {seed}: {schedule} done", flush=True)


def report(path: Path) -> None:
    from creval.errors import CrevalError
    from creval.leaderboards.analysis import fit_entropy_law
    from creval.stats import mean_interval, paired

    rows = [json.loads(line) for line in path.open()]
    at: dict[tuple[str, int], dict[int, dict]] = defaultdict(dict)
    for r in rows:
        at[(r["schedule"], r["step"])][r["seed"]] = r
    print(f"seeds: {sorted({r['seed'] for r in rows})}\n")
    print("| schedule | step | " + " | ".join(f"{f} {q}" for f in FAMILIES for q in ("score", "entropy")) + " |")
    print("|---|---|" + "---|" * 6)
    for schedule in SCHEDULES:
        for step in (0, 150, 300):
            cells = []
            for fam in FAMILIES:
                for i in (0, 1):
                    iv = mean_interval([r[fam][i] for r in at[(schedule, step)].values()])
                    cells.append(f"{iv.mean:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
            print(f"| {schedule} | {step} | " + " | ".join(cells) + " |")
    print("\n| seed | family | entropy 0 -> 300 | score 0 -> 300 | law R² |\n|---|---|---|---|---|")
    for seed in sorted({r["seed"] for r in rows}):
        for fam in FAMILIES:
            pts = sorted((r["step"], r[fam]) for r in rows if r["seed"] == seed and r["schedule"] == "structured-only")
            h, score = [v[1] for _, v in pts], [v[0] for _, v in pts]
            try:
                r2 = f"{fit_entropy_law(h, score).r2:.2f}" if fam != "creative" else "-"
            except CrevalError as exc:  # the fit's guards refuse, e.g., a constant score: say why
                r2 = f"refused: {exc}"
            print(f"| {seed} | {fam} | {h[0]:.3f} -> {h[-1]:.3f} ({100 * (h[-1] - h[0]) / h[0]:+.0f}%) | "
                  f"{score[0]:.3f} -> {score[-1]:.3f} | {r2} |")
    print("\n| structured-first - creative-first | statistic | difference [95% interval] | p (higher) | p (lower) | seeds |")
    print("|---|---|---|---|---|---|")
    points = [("end (300 vs 300)", 300, 300, fam) for fam in FAMILIES]
    points += [("after the structured stage (150 vs 300)", 150, 300, fam) for fam in ("math", "code")]
    points += [("after the creative stage (300 vs 150)", 300, 150, "creative")]
    for name, sf, cf, fam in points:
        for i, stat in enumerate(("distinct" if fam == "creative" else "pass@1", "entropy")):
            base = {str(s): r[fam][i] for s, r in at[("creative-first", cf)].items()}
            cand = {str(s): r[fam][i] for s, r in at[("structured-first", sf)].items()}
            p = paired(base, cand, min_prompts=5)
            print(f"| {name} | {fam} {stat} | {p.difference:+.3f} [{p.low:+.3f}, {p.high:+.3f}] | {p.p_higher:.3f} | "
                  f"{p.p_lower:.3f} | {p.prompts}{' ' + p.reason if p.reason else ''} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    t = sub.add_parser("train")
    t.add_argument("--seeds", required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--work", type=Path, default=Path("testbed-seeds"))
    r = sub.add_parser("report")
    r.add_argument("path", type=Path)
    args = parser.parse_args()
    if args.action == "train":
        train([int(s) for s in args.seeds.split(",")], args.out, args.work)
    else:
        report(args.path)


if __name__ == "__main__":
    main()
