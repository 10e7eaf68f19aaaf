"""The records that flow through the pipeline: frozen, typed, and plain enough to store in Parquet."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import CrevalError
from .hashing import stable_hash

Family = Literal["math", "code", "writing"]
MAX_NEW_TOKENS = 1 << 24  # beyond any context window; larger is a typo, not a request
FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class Prompt:
    """One evaluation item.

    ``text`` is the user request. With ``style="chat"`` a backend wraps it in the model's chat template
    when the tokenizer has one (with ``system`` as the system message); with ``style="completion"`` the
    text is sent verbatim (few-shot completion prompts).
    """

    id: str
    text: str
    reference: Any = None
    style: Literal["chat", "completion"] = "chat"
    system: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        """What the model sees: the part of a prompt that decides its generations."""
        return {"id": self.id, "text": self.text, "style": self.style, "system": self.system}


@dataclass(frozen=True)
class Generation:
    """One sampled response, with per-token entropies of two distributions, named apart.

    ``token_entropy[i]`` is the entropy (nats) of the distribution token ``i`` was actually drawn from:
    softmax(logits / T) after top-p truncation and renormalisation; 0 for greedy decoding (T = 0).
    ``token_entropy_model[i]`` is the model's full-vocabulary entropy at temperature T, softmax(logits / T)
    before any truncation (at T = 0: softmax(logits), the model's own distribution). With top_p = 1 and
    T > 0 the two are the same distribution. ``entropy_kind`` / ``model_entropy_kind`` say how each was
    computed (``exact``; ``topk-renorm:K=20``, an estimate whose bounds are the ``_lo`` / ``_hi``
    fields; ``none``: not available). Cells stored before the two were split hold one series; see
    ``creval.frames`` for how it is read back.
    """

    text: str
    token_ids: tuple[int, ...]
    chosen_logprobs: tuple[float, ...]
    token_entropy: tuple[float, ...] | None
    entropy_kind: str
    finish_reason: FinishReason
    seed: int | None = None
    hidden_erank: float | None = None  # effective rank of the response's last-layer hidden states
    #: bounds on each token's exact entropy where ``token_entropy`` is an estimate (top-K backends)
    token_entropy_lo: tuple[float, ...] | None = None
    token_entropy_hi: tuple[float, ...] | None = None
    #: per step, the top-K log-probabilities (and token ids, where the backend gives them), most likely first
    top_logprobs: tuple[tuple[float, ...], ...] | None = None
    top_token_ids: tuple[tuple[int, ...], ...] | None = None
    #: the model's full-vocabulary entropy at T (T = 0: at 1), before truncation; its kind and bounds
    token_entropy_model: tuple[float, ...] | None = None
    model_entropy_kind: str = "none"
    token_entropy_model_lo: tuple[float, ...] | None = None
    token_entropy_model_hi: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Grade:
    """A per-sample verdict. ``correct`` is None where a task has no correctness grade (writing) or where
    grading itself failed (``status`` says which)."""

    correct: bool | None
    answer: str | None = None
    status: str = "graded"
    detail: str = ""
    score: float | None = None  # a quality scorer's value (writing tasks with a scorer)


def _coerce(name: str, value: Any, kind: type) -> Any:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CrevalError(f"{flag} must be a number, got {value!r}")
    if kind is int and isinstance(value, int):
        return value  # exact, however large (seeds)
    try:
        number = float(value)
    except ValueError:
        raise CrevalError(f"{flag} must be a number, got {value!r}") from None
    if kind is int:
        if not number.is_integer():
            raise CrevalError(f"{flag} must be a whole number, got {value!r}")
        return int(number)
    return number


def canonical_number(value: float | int) -> str:
    """One spelling per number in signatures: whole-number fields as ints (``8``), real-valued ones as
    Python's shortest float repr (``1.0``, ``0.7``), whatever type the caller passed."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(float(value))


@dataclass(frozen=True)
class GenerationConfig:
    """How samples are drawn. Its hash is part of every cell key."""

    n: int = 8
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Canonical types at construction: a YAML ``1`` and a CLI ``1.0`` are one config, one hash, one cell.
        for name, kind in (("n", int), ("temperature", float), ("top_p", float), ("max_new_tokens", int), ("seed", int)):
            object.__setattr__(self, name, _coerce(name, getattr(self, name), kind))
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        if not all(isinstance(s, str) for s in stop):
            raise CrevalError(f"--stop must be strings, got {list(stop)!r}")
        object.__setattr__(self, "stop", stop)
        if self.n < 1:
            raise CrevalError(f"--n must be at least 1, got {self.n}")
        if not (self.temperature >= 0 and math.isfinite(self.temperature)):
            raise CrevalError(f"--temperature must be a finite number >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise CrevalError(f"--top-p must be in (0, 1], got {self.top_p}")
        if not 1 <= self.max_new_tokens <= MAX_NEW_TOKENS:
            raise CrevalError(f"--max-new-tokens must be between 1 and {MAX_NEW_TOKENS:,}, got {self.max_new_tokens}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d

    def hash(self) -> str:
        return stable_hash(self.to_dict())


@dataclass(frozen=True)
class PromptStatistic:
    """One per-prompt value of one statistic of one metric; ``signature`` makes it comparable."""

    prompt_id: str
    statistic: str
    value: float
    signature: str


@dataclass(frozen=True)
class Summary:
    """A statistic aggregated over prompts: mean with a bootstrap confidence interval."""

    statistic: str
    mean: float
    ci_low: float
    ci_high: float
    n_prompts: int
    signature: str
    note: str = ""  # e.g. "unavailable: pip install ..."


@dataclass(frozen=True)
class CellResult:
    """What one (checkpoint, task, generation config, backend) cell produced."""

    task: str
    task_hash: str
    family: Family
    cell_key: str
    cached: bool
    n_prompts: int
    n_samples: int
    truncation_rate: float
    mean_tokens: float
    grade_counts: Mapping[str, int]
    summaries: tuple[Summary, ...]
    path: str
    grader: str = "none"


@dataclass(frozen=True)
class RunResult:
    model: str
    fingerprint: str
    backend: str
    config: GenerationConfig
    cells: tuple[CellResult, ...]
    results_dir: str
    busy: tuple[str, ...] = ()  # tasks whose cells another process was evaluating (left out: run(wait=False))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["config"] = self.config.to_dict()
        return d
