"""The logits processor and stopping criterion behind the Hugging Face backend (imports torch)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, StoppingCriteria

from ..errors import CrevalError


class Sampler(LogitsProcessor):
    """Draws each row's next token itself and returns scores that force the greedy decoder to take it.

    Per step it records the drawn token, its log-probability under softmax(logits / T), and two
    entropies: of the distribution the token was drawn from (after top-p truncation and
    renormalisation; 0 when T = 0, greedy) and of the model's full-vocabulary softmax(logits / T)
    before truncation (at T = 0: softmax(logits)).
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float, device: str) -> None:
        self.temperature = temperature
        self.top_p = top_p
        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        self.tokens: list[torch.Tensor] = []
        self.logprobs: list[torch.Tensor] = []
        self.entropies: list[torch.Tensor] = []
        self.model_entropies: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.Tensor:
        logits = scores.float()
        if bool((logits.isnan() | logits.isposinf()).any()):  # -inf is a masked token; NaN or +inf: overflow
            raise CrevalError("the model's logits are NaN or infinite: its weights overflow (a weight perturbation "
                              "too large, or a --dtype too narrow for this model)")
        if self.temperature > 0:
            logits = logits / self.temperature
        logp = torch.log_softmax(logits, dim=-1)
        probs = logp.exp()
        model_entropy = torch.special.entr(probs).sum(dim=-1)
        if self.temperature == 0:
            chosen = logits.argmax(dim=-1)
            entropy = torch.zeros_like(model_entropy)
        elif self.top_p < 1:
            nucleus = self._nucleus(probs)
            chosen = self._draw(nucleus)
            entropy = torch.special.entr(nucleus).sum(dim=-1)
        else:
            chosen = self._draw(probs)
            entropy = model_entropy
        self.tokens.append(chosen)
        self.logprobs.append(logp.gather(1, chosen[:, None])[:, 0])
        self.entropies.append(entropy)
        self.model_entropies.append(model_entropy)
        forced = torch.full_like(scores, float("-inf"))
        forced.scatter_(1, chosen[:, None], 0.0)
        return forced

    def _nucleus(self, probs: torch.Tensor) -> torch.Tensor:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep = (sorted_p.cumsum(dim=-1) - sorted_p) < self.top_p  # the first token is always kept
        kept = torch.zeros_like(probs).scatter(1, order, sorted_p * keep)
        return kept / kept.sum(dim=-1, keepdim=True)

    def _draw(self, probs: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(self.generators)])

    def history(self) -> tuple[torch.Tensor, ...]:
        """(tokens, log-probabilities, sampled entropies, model entropies), each [rows, steps], on the CPU."""
        return tuple(torch.stack(x, dim=1).cpu()
                     for x in (self.tokens, self.logprobs, self.entropies, self.model_entropies))


class Stopper(StoppingCriteria):
    """Marks a row done at the step it samples an end-of-sequence token or completes a stop string, and
    remembers that step, so each row's generation is cut exactly where it ended."""

    def __init__(self, tokenizer: Any, eos_ids: set[int], stop: Sequence[str], rows: int, prompt_len: int) -> None:
        self.tokenizer = tokenizer
        self.eos = torch.tensor(sorted(eos_ids), dtype=torch.long)
        self.stop = [s for s in stop if s]
        self.window = max((len(s) for s in self.stop), default=0) + 4
        self.prompt_len = prompt_len
        self.end_step = [-1] * rows
        self.step = 0

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.Tensor:
        last = input_ids[:, -1].cpu()
        is_eos = torch.isin(last, self.eos) if self.eos.numel() else torch.zeros_like(last, dtype=torch.bool)
        for row in range(len(self.end_step)):
            if self.end_step[row] >= 0:
                continue
            if is_eos[row] or (self.stop and self._hit_stop(input_ids[row])):
                self.end_step[row] = self.step
        self.step += 1
        return torch.tensor([s >= 0 for s in self.end_step], device=input_ids.device)

    def _hit_stop(self, ids: torch.Tensor) -> bool:
        tail = ids[max(self.prompt_len, ids.shape[0] - self.window) :].tolist()
        text = self.tokenizer.decode(tail, skip_special_tokens=True)
        return any(s in text for s in self.stop)

    def finished(self, row: int) -> bool:
        return self.end_step[row] >= 0

    def length(self, row: int, steps: int) -> int:
        return self.end_step[row] + 1 if self.finished(row) else steps
