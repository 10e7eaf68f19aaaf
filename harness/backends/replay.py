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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import CrevalError
from ..records import Generation, GenerationConfig, Prompt
from ..validation import read_text
from . import Progress, Source, location

_OPTIONS = ("generations",)


def _rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) of every row of the file; a file that is not what its suffix says is a CrevalError."""
    if path.suffix in (".parquet", ".csv"):
        try:
            if path.suffix == ".parquet":
                import pyarrow.parquet as pq

                table = pq.read_table(path).to_pylist()
            else:
                import pandas as pd

                table = pd.read_csv(path, encoding="utf-8").to_dict("records")
        except UnicodeDecodeError as exc:
            raise CrevalError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid and pandas' ParserError are ValueErrors
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise CrevalError(f"{path}: cannot read this {path.suffix[1:]} file ({type(exc).__name__}: {first})") from None
        return [(f"{path} row {i}", row) for i, row in enumerate(table)]
    rows = []
    for number, line in enumerate(read_text(path, "generations file").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise CrevalError(f"{path}:{number}: not valid JSON ({exc})") from None
            if not isinstance(row, dict):
                raise CrevalError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
            rows.append((f"{path}:{number}", row))
    return rows


def _floats(values: Any) -> tuple[float, ...] | None:
    return None if values is None else tuple(float(x) for x in values)


def _sample(row: Any, text_key: str, where: str) -> Generation:
    if not isinstance(row, Mapping):
        raise CrevalError(f"{where}: a sample is {type(row).__name__}; expected a string or an object with 'text'")
    if not isinstance(row.get(text_key), str):
        raise CrevalError(f"{where}: a sample has no {text_key!r} string")
    entropy, model = row.get("token_entropy"), row.get("token_entropy_model")
    try:
        gen = Generation(
            text=row[text_key],
            token_ids=tuple(_integer(t) for t in row.get("token_ids") or ()),
            chosen_logprobs=tuple(float(x) for x in row.get("logprobs") or row.get("chosen_logprobs") or ()),
            token_entropy=_floats(entropy),
            entropy_kind=str(row.get("entropy_kind") or ("replayed" if entropy is not None else "none")),
            token_entropy_model=_floats(model),
            model_entropy_kind=str(row.get("model_entropy_kind") or ("replayed" if model is not None else "none")),
            finish_reason="length" if row.get("finish_reason") == "length" else "stop",
            seed=row.get("seed") if isinstance(row.get("seed"), int) else None,
        )
    except (TypeError, ValueError) as exc:
        raise CrevalError(f"{where}: token_ids, logprobs and the entropies must be lists of numbers ({exc})") from None
    try:
        gen.text.encode("utf-8")
    except UnicodeEncodeError:
        raise CrevalError(f"{where}: {text_key!r} is not valid Unicode (a lone surrogate such as \\ud800)") from None
    return gen


def _integer(value: Any) -> int:
    if isinstance(value, bool) or (not isinstance(value, int) and not (isinstance(value, float) and value.is_integer())):
        raise ValueError(f"token id {value!r} is not an integer")
    return int(value)


class ReplayBackend:
    name = "replay"
    entropy_kind = "replayed"
    description = "score generations made elsewhere (creval, verl or TRL dumps: JSONL, Parquet, CSV)"
    defaults: dict[str, Any] = dict.fromkeys(_OPTIONS)

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
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> ReplayBackend:
        path = Path(location(source))
        by_prompt: dict[str, list[Generation]] = {}
        by_text: list[tuple[str, Generation]] = []
        for where, row in _rows(path):
            if "prompt_id" in row:
                pid = str(row["prompt_id"])
                samples = row["samples"] if row.get("samples") is not None else [row]
                if isinstance(samples, str):
                    try:
                        samples = json.loads(samples)
                    except ValueError:
                        raise CrevalError(f"{where}: 'samples' is a string but not a JSON list") from None
                if not isinstance(samples, (list, tuple)):
                    raise CrevalError(f"{where}: 'samples' must be a list, got {type(samples).__name__}")
                for s in samples:
                    by_prompt.setdefault(pid, []).append(_sample({"text": s} if isinstance(s, str) else s, "text", where))
            elif "input" in row and "output" in row:  # verl
                by_text.append((str(row["input"]), _sample(row, "output", where)))
            elif "prompt" in row and "completion" in row:  # TRL
                by_text.append((str(row["prompt"]), _sample(row, "completion", where)))
            else:
                raise CrevalError(f"{where}: a row has none of prompt_id, input/output (verl), prompt/completion (TRL): "
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
