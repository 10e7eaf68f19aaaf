"""Conversions between records and the Arrow tables the store keeps (one schema per file kind)."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import pyarrow as pa

from .records import Generation, Grade, Prompt, PromptStatistic

GENERATIONS_SCHEMA = pa.schema(
    [
        ("prompt_id", pa.string()),
        ("sample", pa.int32()),
        ("seed", pa.int64()),
        ("text", pa.string()),
        ("token_ids", pa.list_(pa.int32())),
        ("chosen_logprobs", pa.list_(pa.float32())),
        ("token_entropy", pa.list_(pa.float32())),
        ("entropy_kind", pa.string()),
        ("finish_reason", pa.string()),
        ("n_tokens", pa.int32()),
        ("hidden_erank", pa.float64()),
        ("token_entropy_lo", pa.list_(pa.float32())),
        ("token_entropy_hi", pa.list_(pa.float32())),
        ("top_logprobs", pa.list_(pa.list_(pa.float32()))),
        ("top_token_ids", pa.list_(pa.list_(pa.int32()))),
    ]
)
GRADES_SCHEMA = pa.schema(
    [
        ("prompt_id", pa.string()),
        ("sample", pa.int32()),
        ("correct", pa.bool_()),
        ("answer", pa.string()),
        ("status", pa.string()),
        ("detail", pa.string()),
        ("score", pa.float64()),
    ]
)
SCORES_SCHEMA = pa.schema(
    [("prompt_id", pa.string()), ("statistic", pa.string()), ("value", pa.float64()), ("signature", pa.string())]
)


def generations_to_table(prompts: Sequence[Prompt], generations: Sequence[Sequence[Generation]]) -> pa.Table:
    rows = [
        {
            "prompt_id": p.id,
            "sample": j,
            "seed": g.seed,
            "text": g.text,
            "token_ids": list(g.token_ids),
            "chosen_logprobs": list(g.chosen_logprobs),
            "token_entropy": None if g.token_entropy is None else list(g.token_entropy),
            "entropy_kind": g.entropy_kind,
            "finish_reason": g.finish_reason,
            "n_tokens": len(g.token_ids),
            "hidden_erank": g.hidden_erank,
            "token_entropy_lo": None if g.token_entropy_lo is None else list(g.token_entropy_lo),
            "token_entropy_hi": None if g.token_entropy_hi is None else list(g.token_entropy_hi),
            "top_logprobs": None if g.top_logprobs is None else [list(x) for x in g.top_logprobs],
            "top_token_ids": None if g.top_token_ids is None else [list(x) for x in g.top_token_ids],
        }
        for p, gens in zip(prompts, generations, strict=True)
        for j, g in enumerate(gens)
    ]
    return pa.Table.from_pylist(rows, schema=GENERATIONS_SCHEMA)


def _by_prompt(table: pa.Table) -> dict[str, list[dict]]:
    """prompt id -> its rows in sample order."""
    out: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(table.to_pylist(), key=lambda r: (r["prompt_id"], r["sample"])):
        out[row["prompt_id"]].append(row)
    return dict(out)


def _generation(row: dict) -> Generation:
    entropy = row["token_entropy"]
    return Generation(
        text=row["text"],
        token_ids=tuple(row["token_ids"]),
        chosen_logprobs=tuple(row["chosen_logprobs"]),
        token_entropy=None if entropy is None else tuple(entropy),
        entropy_kind=row["entropy_kind"],
        finish_reason=row["finish_reason"],
        seed=row["seed"],
        hidden_erank=row.get("hidden_erank"),
        token_entropy_lo=None if row.get("token_entropy_lo") is None else tuple(row["token_entropy_lo"]),
        token_entropy_hi=None if row.get("token_entropy_hi") is None else tuple(row["token_entropy_hi"]),
        top_logprobs=None if row.get("top_logprobs") is None else tuple(tuple(x) for x in row["top_logprobs"]),
        top_token_ids=None if row.get("top_token_ids") is None else tuple(tuple(x) for x in row["top_token_ids"]),
    )


def table_to_generations(table: pa.Table) -> dict[str, list[Generation]]:
    """prompt id -> its generations in sample order."""
    return {pid: [_generation(r) for r in rows] for pid, rows in _by_prompt(table).items()}


def grades_to_table(prompt_ids: Sequence[str], grades: Sequence[Sequence[Grade]]) -> pa.Table:
    rows = [
        {"prompt_id": pid, "sample": j, "correct": g.correct, "answer": g.answer, "status": g.status,
         "detail": g.detail, "score": g.score}
        for pid, gs in zip(prompt_ids, grades, strict=True)
        for j, g in enumerate(gs)
    ]
    return pa.Table.from_pylist(rows, schema=GRADES_SCHEMA)


def table_to_grades(table: pa.Table) -> dict[str, list[Grade]]:
    return {
        pid: [Grade(r["correct"], r["answer"], r["status"], r["detail"], r["score"]) for r in rows]
        for pid, rows in _by_prompt(table).items()
    }


def scores_to_table(stats: Sequence[PromptStatistic]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"prompt_id": s.prompt_id, "statistic": s.statistic, "value": s.value, "signature": s.signature} for s in stats],
        schema=SCORES_SCHEMA,
    )
