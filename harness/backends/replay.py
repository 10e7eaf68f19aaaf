"""Replay backend: score generations produced elsewhere (``--backend replay --generations FILE``).

Accepted formats (JSON lines, or Parquet / CSV with the same columns):

* creval's own: ``{"prompt_id": ..., "samples": [...]}`` where a sample is a string or an object with
  ``text`` and optionally ``token_ids``, ``logprobs`` (chosen-token log-probabilities),
  ``token_entropy``, ``entropy_kind``, ``token_entropy_model``, ``model_entropy_kind``, ``finish_reason``,
  ``seed``; or one sample per line as
  ``{"prompt_id": ..., "text": ...}`` (plus the same optional fields). A creval
  ``generations.parquet`` replays exactly.
* verl rollout dumps (``trainer.rollout_data_dir``): lines ``{"input": ..., "output": ..., "score": ...,
  "step": ...}``;
* TRL completions tables (``GRPOTrainer`` with ``log_completions``, exported): columns ``prompt`` and
  ``completion``.

verl and TRL rows name their prompt by its rendered text, not by id: a row belongs to the task prompt
whose text it contains (chat templates wrap the text; the longest match wins); rows matching no prompt
of the task are left to other tasks. Each prompt needs at least ``--n`` samples; the first n are used. The
model "fingerprint" is the file's content hash: replaying the same file finds the same cells.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import CrevalError
from ..records import Generation, GenerationConfig, Prompt
from . import Progress, Source, location

_OPTIONS = ("generations",)


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        import pandas as pd

        return pd.read_csv(path).to_dict("records")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise CrevalError(f"{path}:{number}: not valid JSON ({exc})") from None
    return rows


def _floats(values: Any) -> tuple[float, ...] | None:
    return None if values is None else tuple(float(x) for x in values)


def _sample(row: Mapping[str, Any], text_key: str) -> Generation:
    entropy, model = row.get("token_entropy"), row.get("token_entropy_model")
    return Generation(
        text=str(row[text_key]),
        token_ids=tuple(int(t) for t in row.get("token_ids") or ()),
        chosen_logprobs=tuple(float(x) for x in row.get("logprobs") or row.get("chosen_logprobs") or ()),
        token_entropy=_floats(entropy),
        entropy_kind=str(row.get("entropy_kind") or ("replayed" if entropy is not None else "none")),
        token_entropy_model=_floats(model),
        model_entropy_kind=str(row.get("model_entropy_kind") or ("replayed" if model is not None else "none")),
        finish_reason="length" if row.get("finish_reason") == "length" else "stop",
        seed=row.get("seed") if isinstance(row.get("seed"), int) else None,
    )


class ReplayBackend:
    name = "replay"
    entropy_kind = "replayed"

    def __init__(self, by_prompt: dict[str, list[Generation]], by_text: list[tuple[str, Generation]], path: Path):
        self.by_prompt, self.by_text, self.path = by_prompt, by_text, path

    @staticmethod
    def _path(options: Mapping[str, Any]) -> Path:
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise CrevalError(f"replay backend: unknown options {sorted(unknown)}; known: {list(_OPTIONS)}")
        if not options.get("generations"):
            raise CrevalError("replay backend: give the generations to score with --generations FILE")
        path = Path(options["generations"]).expanduser()
        if not path.is_file():
            raise CrevalError(f"replay backend: generations file not found: {path}")
        return path

    @classmethod
    def resolve(cls, model: str, options: Mapping[str, Any]) -> Source:
        path = cls._path(options)
        return Source(str(path.resolve()), "replay-" + hashlib.sha256(path.read_bytes()).hexdigest()[:16])

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str:
        return "replay/1"

    @classmethod
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> "ReplayBackend":
        path = Path(location(source))
        by_prompt: dict[str, list[Generation]] = {}
        by_text: list[tuple[str, Generation]] = []
        for row in _rows(path):
            if "prompt_id" in row:
                pid = str(row["prompt_id"])
                samples = row["samples"] if row.get("samples") is not None else [row]
                if isinstance(samples, str):
                    samples = json.loads(samples)
                for s in samples:
                    by_prompt.setdefault(pid, []).append(_sample({"text": s} if isinstance(s, str) else s, "text"))
            elif "input" in row and "output" in row:  # verl
                by_text.append((str(row["input"]), _sample(row, "output")))
            elif "prompt" in row and "completion" in row:  # TRL
                by_text.append((str(row["prompt"]), _sample(row, "completion")))
            else:
                raise CrevalError(f"{path}: a row has none of prompt_id, input/output (verl), prompt/completion (TRL): "
                                  f"{sorted(row)}")
        return cls(by_prompt, by_text, path)

    def _match_texts(self, prompts: Sequence[Prompt]) -> dict[str, list[Generation]]:
        out: dict[str, list[Generation]] = {}
        for text, gen in self.by_text:
            owners = [p for p in prompts if p.text and p.text in text]
            if not owners:
                continue  # a rollout of another task in the same dump; a prompt left short is an error below
            out.setdefault(max(owners, key=lambda p: len(p.text)).id, []).append(gen)
        return out

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None) -> list[list[Generation]]:
        found = {**self._match_texts(prompts), **self.by_prompt}
        out = []
        for p in prompts:
            samples = found.get(p.id, [])
            if len(samples) < config.n:
                raise CrevalError(f"{self.path}: prompt {p.id!r} has {len(samples)} samples, --n asks for {config.n}")
            out.append(samples[: config.n])
        if progress:
            progress(len(prompts))
        return out
