"""``creval testbed train``: tiny policies trained with RL under schedules, checkpoints + a manifest."""
from __future__ import annotations

import argparse

from .args import nonnegative_float, nonnegative_int, output_dir, positive_float, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("testbed", help="train tiny policies with RL under schedules (CPU)",
                       description="The testbed: toy structured (math, code) and creative tasks, tiny GPT-2 policies.")
    tsub = t.add_subparsers(dest="testbed_command", required=True, metavar="ACTION")
    tr = tsub.add_parser("train", help="warm up, then train with RL under one or more schedules",
                         description="Per seed: a supervised warm-up shared by the seed's schedules (cached under the "
                         "creval cache, so later runs of the seed load it), then REINFORCE with a group baseline under "
                         "each schedule (dropout off, gradient-norm clipping); checkpoints every --every steps and at "
                         "every stage end, and a sweep manifest (OUT/sweep.yaml) for `creval sweep`. The defaults are "
                         "the configuration measured to reach the entropy-collapse regime (docs/testbed.md).")
    tr.add_argument("--schedule", required=True,
                    help="comma-separated: joint, structured-first, creative-first, structured-only, creative-only")
    tr.add_argument("--steps", type=positive_int, default=300, help="RL steps per schedule (default 300)")
    tr.add_argument("--every", type=positive_int, default=50, help="checkpoint every N steps, besides stage ends (default 50)")
    tr.add_argument("--warmup-steps", type=nonnegative_int, default=1500, help="supervised warm-up steps (default 1500)")
    tr.add_argument("--lr", type=positive_float, default=1e-3, help="RL learning rate (AdamW; default 1e-3)")
    tr.add_argument("--clip", type=nonnegative_float, default=1.0, help="RL gradient-norm clipping, 0 for none (default 1.0)")
    tr.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    tr.add_argument("--kl", type=nonnegative_float, default=0.0, help="KL penalty to the warm-up policy (default 0)")
    tr.add_argument("--no-reset-optimizer", action="store_true", help="keep Adam's state across stages")
    tr.add_argument("--no-novelty-bonus", action="store_true",
                    help="creative reward = validity alone, without the novelty bonus (a control; docs/testbed.md)")
    tr.add_argument("--n", type=positive_int, default=8, help="samples per prompt in the manifest's generation config")
    tr.add_argument("--out", required=True, type=output_dir, help="output folder")
    tr.add_argument("--json", action="store_true", help="print the manifest and checkpoints written as JSON "
                    "(progress lines go to stderr)")


def run(args: argparse.Namespace) -> int:
    import logging
    import sys

    from ..testbed.experiment import run_experiment
    from ..testbed.train import TrainConfig

    cfg = TrainConfig(steps=args.steps, every=args.every, warmup_steps=args.warmup_steps, lr=args.lr, clip=args.clip,
                      kl=args.kl, reset_optimizer=not args.no_reset_optimizer, novelty_bonus=not args.no_novelty_bonus)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    schedules = [s.strip() for s in args.schedule.split(",") if s.strip()]
    narrate = logging.getLogger("creval.cli").info if args.json else print
    manifest = run_experiment(schedules, seeds, args.out, cfg, n=args.n, on_progress=narrate,
                              progress=sys.stderr.isatty())
    if args.json:
        from .render import to_json

        checkpoints = sorted(str(p.relative_to(args.out)) for p in args.out.glob("seed*/*/checkpoint-*") if p.is_dir())
        print(to_json({"out": str(args.out), "manifest": str(manifest), "checkpoints": checkpoints,
                       "next": f"creval sweep {manifest}"}))
        return 0
    print(f"checkpoints and manifest in {args.out}; next: creval sweep {manifest}")
    return 0
