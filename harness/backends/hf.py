"""Hugging Face ``transformers`` backend: any local causal-LM checkpoint (or hub id when online).

Sampling runs inside ``model.generate`` (which owns caching, padding and stopping for every
architecture) as a logits processor that, at each step, computes two exact entropies over the full
vocabulary (of the distribution sampled from, after top-p, 0 when greedy; and of the model's
softmax(logits / T) before truncation, softmax(logits) when greedy), draws the next token with a per-sample
``torch.Generator`` (seeded from run seed, prompt id and sample index, so a sample does not depend on
batching), records its log-probability, and masks every other token so the greedy decoder takes it.
The checkpoint's ``generation_config.json`` sampling defaults (temperature, top_k, repetition penalty
...) are ignored: the recorded ``GenerationConfig`` is exactly what was sampled with.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import CrevalError
from ..records import Generation, GenerationConfig, Prompt
from . import Progress, Source, location, merge_options, resolve_local, sample_seed
from .prompting import decode, render

_DEFAULTS = {"dtype": "float32", "device": "auto", "batch_size": 64, "hidden_states": False, "perturb": None}


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    merged = merge_options("hf", options, _DEFAULTS)
    if merged["dtype"] not in ("float32", "bfloat16", "float16"):
        raise CrevalError(f"hf backend: dtype must be float32, bfloat16 or float16, got {merged['dtype']!r}")
    if merged["device"] == "auto":
        merged["device"] = "cuda" if _cuda_available() else "cpu"
    else:
        merged["device"] = _device(str(merged["device"]))
    if not isinstance(merged["batch_size"], int) or isinstance(merged["batch_size"], bool) or merged["batch_size"] < 1:
        raise CrevalError(f"hf backend: batch_size must be an integer >= 1, got {merged['batch_size']!r}")
    if merged["perturb"] is not None:
        from ..perturb import Perturbation

        merged["perturb"] = Perturbation.parse(str(merged["perturb"])).label
    return merged


def _cuda_available() -> bool:
    """``torch.cuda.is_available()``, without importing torch (a second or more) on a Linux machine
    with no GPU device node: the backend signature, part of every cell key, is computed when planning."""
    if sys.platform.startswith("linux") and not any(Path(p).exists() for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")):
        return False
    import torch

    return torch.cuda.is_available()


def _device(name: str) -> str:
    """``name`` if this machine has that device; otherwise a CrevalError saying what it has."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise CrevalError(f"hf backend: unknown device {name!r}; expected cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise CrevalError(f"hf backend: --device {name}, but torch sees no CUDA device here; use --device cpu")
        if device.index is not None and device.index >= count:
            raise CrevalError(f"hf backend: --device {name}, but torch sees {count} CUDA device(s) (cuda:0..cuda:{count - 1})")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise CrevalError(f"hf backend: --device {name}, but MPS is not available here; use --device cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise CrevalError(f"hf backend: device {name!r} is not supported; expected cpu, cuda, cuda:N or mps")
    return name


class HFBackend:
    name = "hf"
    entropy_kind = "exact"
    description = "local checkpoint with transformers; exact full-vocabulary token entropy"
    defaults = _DEFAULTS

    def __init__(self, model: Any, tokenizer: Any, options: Mapping[str, Any]) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.options = dict(options)
        self._unperturbed: dict[str, Any] = {}  # what ``perturb`` changed, to put back
        eos = model.generation_config.eos_token_id
        eos = eos if eos is not None else tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str:
        o = _options(options)
        hidden = ":hs=1" if o["hidden_states"] else ""
        perturbed = f":perturb={o['perturb']}" if o["perturb"] else ""  # last: its value holds ':'
        return f"hf/1:dtype={o['dtype']}:device={o['device'].split(':')[0]}{hidden}{perturbed}"

    @classmethod
    def resolve(cls, model: str, options: Mapping[str, Any]) -> Source:
        return resolve_local(model)

    @classmethod
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> HFBackend:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers import GenerationConfig as HFGenConfig
        except ImportError as exc:
            raise CrevalError(f"the hf backend needs torch and transformers ({exc.name} is missing): "
                              "pip install 'creval[hf]' torch==2.13.0") from None
        o = _options(options)
        checkpoint = location(source)
        try:
            tokenizer = AutoTokenizer.from_pretrained(checkpoint)
            model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=getattr(torch, o["dtype"]))
        except Exception as exc:  # transformers raises many types for a broken checkpoint
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise CrevalError(f"could not load checkpoint {checkpoint}: {type(exc).__name__}: {first}") from None
        if o["perturb"]:  # the weights the signature names: never the checkpoint's own cells
            from ..perturb import Perturbation

            Perturbation.parse(o["perturb"]).apply(model, keep=False)
        model.to(o["device"]).eval()
        original = model.generation_config
        model.generation_config = HFGenConfig(
            bos_token_id=original.bos_token_id, eos_token_id=original.eos_token_id, pad_token_id=original.pad_token_id
        )
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        return cls(model, tokenizer, o)

    def render(self, prompt: Prompt) -> tuple[str, bool]:
        """(text to tokenize, whether the tokenizer should add its special tokens)."""
        return render(self.tokenizer, prompt)

    def context_length(self) -> int | None:
        """Positions the model can attend to (``max_position_embeddings``, GPT-2's ``n_positions``), if it says."""
        value = getattr(self.model.config, "max_position_embeddings", None)
        return value if isinstance(value, int) and value > 0 else None

    def check(self, prompts: Sequence[Prompt], config: GenerationConfig, task: str) -> None:
        """Refuse, before anything is generated, a prompt whose tokens plus ``max_new_tokens`` exceed the
        model's context: position embeddings past it do not exist (GPT-2 fails with an IndexError)."""
        limit = self.context_length()
        if limit is None:
            return
        longest, pid = 0, ""
        for p in prompts:
            text, add_special = self.render(p)
            length = len(self.tokenizer(text, add_special_tokens=add_special)["input_ids"])
            if length > longest:
                longest, pid = length, p.id
        if longest + config.max_new_tokens > limit:
            room = limit - longest
            fix = f"give --max-new-tokens {room} or less" if room > 0 else "shorten the prompts"
            raise CrevalError(f"{task}: prompt {pid!r} is {longest} tokens, plus --max-new-tokens {config.max_new_tokens} "
                              f"exceeds the model's context of {limit} tokens; {fix}, or use a model with a longer context")

    # generation ----------------------------------------------------------------------------------
    def generate(
        self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None
    ) -> list[list[Generation]]:
        per_batch = max(1, int(self.options["batch_size"]) // config.n)
        rendered = [self.render(p) for p in prompts]
        # Similar lengths batch together (less padding); samples do not depend on the batching.
        order = sorted(range(len(prompts)), key=lambda i: len(rendered[i][0]))
        results: dict[int, list[Generation]] = {}
        for start in range(0, len(order), per_batch):
            idx = order[start : start + per_batch]
            for add_special in (True, False):
                group = [i for i in idx if rendered[i][1] is add_special]
                if group:
                    gens = self._generate_batch([prompts[i] for i in group], [rendered[i][0] for i in group], add_special, config)
                    results.update(zip(group, gens))
            if progress:
                progress(len(idx))
        return [results[i] for i in range(len(prompts))]

    def _generate_batch(
        self, prompts: Sequence[Prompt], texts: Sequence[str], add_special: bool, config: GenerationConfig
    ) -> list[list[Generation]]:
        import torch
        from transformers import GenerationConfig as HFGenConfig
        from transformers import LogitsProcessorList, StoppingCriteriaList

        from ._hf_sampling import Sampler, Stopper

        device = self.options["device"]
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True, add_special_tokens=add_special)
        n = config.n
        input_ids = enc["input_ids"].repeat_interleave(n, dim=0).to(device)
        attention = enc["attention_mask"].repeat_interleave(n, dim=0).to(device)
        seeds = [sample_seed(config.seed, p.id, j) for p in prompts for j in range(n)]
        sampler = Sampler(seeds, config.temperature, config.top_p, device)
        stopper = Stopper(self.tokenizer, self.eos_ids, config.stop, input_ids.shape[0], input_ids.shape[1])
        hf_config = HFGenConfig(
            do_sample=False,
            max_new_tokens=config.max_new_tokens,
            eos_token_id=sorted(self.eos_ids) or None,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        with torch.inference_mode():
            sequences = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                generation_config=hf_config,
                logits_processor=LogitsProcessorList([sampler]),
                stopping_criteria=StoppingCriteriaList([stopper]),
            )
        tokens, logprobs, entropies, model_entropies = sampler.history()
        lengths = [stopper.length(row, tokens.shape[1]) for row in range(tokens.shape[0])]
        eranks = self._hidden_eranks(sequences, attention, input_ids.shape[1], lengths) if self.options["hidden_states"] else None
        out: list[list[Generation]] = []
        for p_index in range(len(prompts)):
            row_gens = []
            for j in range(n):
                row = p_index * n + j
                length = lengths[row]
                ids = tokens[row, :length].tolist()
                generated = sequences[row, input_ids.shape[1] : input_ids.shape[1] + length].tolist()
                if generated != ids:  # the greedy decoder must take exactly the sampled token
                    raise RuntimeError("hf backend: generate() did not follow the sampled tokens")
                row_gens.append(
                    Generation(
                        text=decode(self.tokenizer, ids, self.eos_ids, config.stop),
                        token_ids=tuple(ids),
                        chosen_logprobs=tuple(logprobs[row, :length].tolist()),
                        token_entropy=tuple(entropies[row, :length].tolist()),
                        entropy_kind=self.entropy_kind,
                        token_entropy_model=tuple(model_entropies[row, :length].tolist()),
                        model_entropy_kind=self.entropy_kind,
                        finish_reason="stop" if stopper.finished(row) else "length",
                        seed=seeds[row],
                        hidden_erank=eranks[row] if eranks else None,
                    )
                )
            out.append(row_gens)
        return out

    def _hidden_eranks(self, sequences: Any, attention: Any, prompt_len: int, lengths: list[int]) -> list[float | None]:
        """Effective rank (Roy & Vetterli 2007: exp of the entropy of the normalised singular values,
        not squared) of each response's last-layer hidden states, from one forward pass over the batch."""
        import torch

        from creval.metrics.effective_rank import effective_rank

        total = prompt_len + max(lengths, default=0)
        mask = torch.zeros(sequences.shape[0], total, dtype=attention.dtype, device=sequences.device)
        mask[:, :prompt_len] = attention
        for row, length in enumerate(lengths):
            mask[row, prompt_len : prompt_len + length] = 1
        positions = (mask.long().cumsum(-1) - 1).clamp(min=0)  # as generate() numbers left-padded rows
        with torch.inference_mode():
            hidden = self.model(sequences[:, :total], attention_mask=mask, position_ids=positions,
                                output_hidden_states=True).hidden_states[-1]
        ranks: list[float | None] = []
        for row, length in enumerate(lengths):
            states = hidden[row, prompt_len : prompt_len + length].float().cpu().numpy()
            value = effective_rank(states) if length else float("nan")
            ranks.append(None if value != value else value)
        return ranks

    def perturb(self, label: str | None) -> None:
        """Put the weights under perturbation ``label`` (``creval.perturb``; None: the checkpoint's own),
        in place: the previous perturbation is undone exactly first. The probe's way to reuse one engine."""
        from ..perturb import Perturbation, restore

        label = Perturbation.parse(label).label if label else None
        if label == self.options.get("perturb"):
            return
        if self.options.get("perturb") and not self._unperturbed:
            raise CrevalError("this engine was loaded perturbed: its unperturbed weights are not kept to go back to")
        restore(self.model, self._unperturbed)
        self._unperturbed = Perturbation.parse(label).apply(self.model) if label else {}
        self.options["perturb"] = label

    def close(self) -> None:
        with contextlib.suppress(Exception):
            del self.model
