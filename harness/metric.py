"""The Metric interface: declared parameters, per-prompt statistics, and sacrebleu-style signatures.

A metric is a dataclass whose fields are its parameters; ``name:key=value:key=v1,v2`` on the command
line sets them. ``score`` returns the statistics of one prompt (across its k samples); aggregation over
prompts is generic (``creval.stats``). Every value is stored with a signature such as
``distinct-2|tok:ws|case:lc|n:8|T:1.0|top_p:1.0|max:256|stop:none|be:hf|dtype:float32|task:mini_writing@1:3fa2c1d0|v:1``:
two numbers are comparable only when ``creval.signature.comparable`` says so (equal signatures, or
equal but for ``n`` where both are ``est:n-free``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from .records import Family, Generation, GenerationConfig, Grade, Prompt
from .signature import backend_fields, config_fields, render
from .spec_strings import build


@dataclass(frozen=True)
class CellInfo:
    """What a signature needs to know about the cell a value came from."""

    config: GenerationConfig
    task_ref: str
    family: Family
    entropy_kind: str
    backend: str = ""  # the backend's signature (``hf/1:dtype=float32:device=cpu``); "" when unknown
    model_entropy_kind: str = "none"  # how ``Generation.token_entropy_model`` was computed


@dataclass
class Metric:
    name: ClassVar[str]
    version: ClassVar[str] = "1"
    families: ClassVar[tuple[Family, ...]] = ("math", "code", "writing")
    description: ClassVar[str] = ""

    def prepare(self, config: GenerationConfig) -> None:
        """Check the parameters against the generation config (e.g. k <= n) before anything runs."""

    def unavailable(self) -> str | None:
        """Why this metric cannot run here (a missing optional dependency and how to install it), or None.
        An unavailable metric is reported as such and the run goes on."""
        return None

    def undefined(self, statistic: str, cell: CellInfo,
                  items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> str:
        """Why ``statistic`` has a value on no prompt of the cell: shown in the value's place."""
        return "undefined on every prompt"

    def begin_cell(self, cell: CellInfo, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> None:
        """Called once per cell before ``score``: the cell's context, and a chance to batch expensive work
        (embeddings, taggers) over all its samples."""

    def statistics(self, config: GenerationConfig) -> list[str]:
        """Names of the statistics ``score`` returns."""
        raise NotImplementedError

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> Mapping[str, float]:
        raise NotImplementedError

    def score_cell(self, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> Mapping[str, float]:
        """Statistics across all prompts of a cell, where the literature defines them that way (stored
        with an empty prompt id, reported without an interval). None by default."""
        return {}

    def fields(self, cell: CellInfo) -> dict[str, str]:
        """The metric's own signature fields, in order (tokenizer, casing, estimator ...)."""
        return {}

    def applies_to(self, family: Family) -> bool:
        return family in self.families

    def statistic_fields(self, statistic: str, cell: CellInfo) -> dict[str, str]:
        """The signature fields of one statistic; the metric's ``fields`` unless a metric's statistics
        differ in what they measure (token_entropy: sampled vs model distribution)."""
        return self.fields(cell)

    def n_free(self, statistic: str) -> bool:
        """True when ``statistic`` is an unbiased estimate of a quantity that does not depend on the
        number of samples n (pass@k for k <= n): its values compare across n (``est:n-free``)."""
        return False

    def signature(self, statistic: str, cell: CellInfo) -> str:
        fields = list(self.statistic_fields(statistic, cell).items())
        fields += config_fields(cell.config, n_free=self.n_free(statistic))
        fields += backend_fields(cell.backend)
        fields += [("task", cell.task_ref), ("v", self.version)]
        return render(statistic, fields)


def parse_metric_spec(spec: str, cls: type[Metric]) -> Metric:
    """Build ``cls`` from ``name[:key=value[:key=value...]]``; list values are comma-separated."""
    return build(spec, cls, "metric")
