"""Conversions between records and the Arrow tables the store keeps (one schema per file kind)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import pyarrow as pa

from .records import Generation, GenerationConfig, Grade, Prompt, PromptStatistic

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
        ("token_entropy_model", pa.list_(pa.float32())),
        ("model_entropy_kind", pa.string()),
        ("token_entropy_model_lo", pa.list_(pa.float32())),
        ("token_entropy_model_hi", pa.list_(pa.float32())),
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
            "token_entropy": _list(g.token_entropy),
            "entropy_kind": g.entropy_kind,
            "finish_reason": g.finish_reason,
            "n_tokens": len(g.token_ids),
            "hidden_erank": g.hidden_erank,
            "token_entropy_lo": _list(g.token_entropy_lo),
            "token_entropy_hi": _list(g.token_entropy_hi),
            "top_logprobs": None if g.top_logprobs is None else [list(x) for x in g.top_logprobs],
            "top_token_ids": None if g.top_token_ids is None else [list(x) for x in g.top_token_ids],
            "token_entropy_model": _list(g.token_entropy_model),
            "model_entropy_kind": g.model_entropy_kind,
            "token_entropy_model_lo": _list(g.token_entropy_model_lo),
            "token_entropy_model_hi": _list(g.token_entropy_model_hi),
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


def _list(values: tuple | None) -> list | None:
    return None if values is None else list(values)


def _tuple(values: list | None) -> tuple | None:
    return None if values is None else tuple(values)


def _entropies(row: dict, config: GenerationConfig | None) -> dict:
    """The entropy fields of a row. Cells stored before sampled and model entropies were split have one
    series and no ``model_entropy_kind``: the hf backend's ``exact`` series was softmax(logits / T)
    before top-p, the model entropy, and is read as such; the sampled one follows from it where the
    cell's ``config`` says how (0 when greedy, the same at top_p = 1), else it is unknown. Any other
    series stays ``token_entropy`` with its kind marked ``legacy:`` (a top-K server's logprobs may have
    described either distribution), so it is never compared with values of the new definitions."""
    fields = {"token_entropy": _tuple(row["token_entropy"]), "entropy_kind": row["entropy_kind"],
              "token_entropy_lo": _tuple(row.get("token_entropy_lo")),
              "token_entropy_hi": _tuple(row.get("token_entropy_hi")),
              "token_entropy_model": _tuple(row.get("token_entropy_model")),
              "model_entropy_kind": row.get("model_entropy_kind") or "none",
              "token_entropy_model_lo": _tuple(row.get("token_entropy_model_lo")),
              "token_entropy_model_hi": _tuple(row.get("token_entropy_model_hi"))}
    if "model_entropy_kind" in row or fields["entropy_kind"] == "none":
        return fields
    if fields["entropy_kind"] == "exact":
        model = fields["token_entropy"]
        sampled = None
        if config is not None and model is not None and (config.temperature == 0 or config.top_p >= 1):
            sampled = (0.0,) * len(model) if config.temperature == 0 else model
        return {**fields, "token_entropy": sampled, "entropy_kind": "none" if sampled is None else "exact",
                "token_entropy_model": model, "model_entropy_kind": "exact"}
    return {**fields, "entropy_kind": "legacy:" + fields["entropy_kind"]}


def _generation(row: dict, config: GenerationConfig | None) -> Generation:
    return Generation(
        text=row["text"],
        token_ids=tuple(row["token_ids"]),
        chosen_logprobs=tuple(row["chosen_logprobs"]),
        finish_reason=row["finish_reason"],
        seed=row["seed"],
        hidden_erank=row.get("hidden_erank"),
        top_logprobs=None if row.get("top_logprobs") is None else tuple(tuple(x) for x in row["top_logprobs"]),
        top_token_ids=None if row.get("top_token_ids") is None else tuple(tuple(x) for x in row["top_token_ids"]),
        **_entropies(row, config),
    )


def table_to_generations(table: pa.Table, config: GenerationConfig | None = None) -> dict[str, list[Generation]]:
    """prompt id -> its generations in sample order; ``config``, the cell's, completes old cells' entropies."""
    return {pid: [_generation(r, config) for r in rows] for pid, rows in _by_prompt(table).items()}


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
