"""What ``creval run`` generates with: the model, the backend and its options, from creval's own flags,
``--backend-option KEY=VALUE``, and lm-evaluation-harness's spelling (``--model hf --model_args
pretrained=X,dtype=bfloat16``), all checked against the options the backend declares.

With ``--model_args``, ``--model`` names lm-eval's model type: ``hf`` (``huggingface``), ``vllm``,
``openai-completions`` / ``local-completions`` (creval's openai backend on /completions) or
``openai-chat-completions`` / ``local-chat-completions`` (on /chat/completions). In ``--model_args``,
``pretrained`` (hf, vllm) or ``model`` (openai) is the checkpoint or served model, ``num_concurrent`` is
``max_concurrency``, ``max_length`` is vLLM's ``max_model_len``; every other key is a backend option.
"""
from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import CrevalError

LM_EVAL_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "hf": ("hf", {}), "huggingface": ("hf", {}), "vllm": ("vllm", {}),
    "openai-completions": ("openai", {"api": "completions"}), "local-completions": ("openai", {"api": "completions"}),
    "openai-chat-completions": ("openai", {"api": "chat"}), "local-chat-completions": ("openai", {"api": "chat"}),
}
MODEL_KEYS = ("pretrained", "model")  # lm-eval's name for the checkpoint (hf, vllm) or served model (openai)
RENAMED = {"num_concurrent": "max_concurrency", "max_length": "max_model_len"}
#: option -> type, for options whose default is None (the others take their default's type)
NONE_DEFAULT_TYPES: dict[str, type] = {"max_model_len": int, "chunked_prefill": bool, "served_model": str}


def key_value(text: str) -> tuple[str, str]:
    """An argparse type for ``KEY=VALUE``."""
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def convert(backend: str, defaults: Mapping[str, Any], key: str, raw: str, where: str) -> Any:
    """``raw`` as a value of option ``key``: of its default's type (bool, int, float, str)."""
    if key not in defaults:
        raise CrevalError(f"{where}: the {backend} backend has no option {key!r}; its options: {', '.join(sorted(defaults))}")
    default = defaults[key]
    kind = NONE_DEFAULT_TYPES.get(key, str) if default is None else type(default)
    if kind is bool:
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise CrevalError(f"{where}: {key} takes true or false, got {raw!r}")
        return raw.lower() in ("true", "1", "yes")
    try:
        return kind(raw)
    except ValueError:
        raise CrevalError(f"{where}: {key} takes {'an integer' if kind is int else 'a number'}, got {raw!r}") from None


def _parse_model_args(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (t.strip() for t in text.split(",")):
        if item:
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise CrevalError(f"--model_args: expected KEY=VALUE[,KEY=VALUE...], got {item!r}")
            pairs.append((key.strip(), value.strip()))
    return pairs


class _Options(dict):
    """Backend options that say where each came from, and refuse one option set twice to two values."""

    def __init__(self) -> None:
        super().__init__()
        self.origin: dict[str, str] = {}

    def put(self, key: str, value: Any, where: str) -> None:
        if key in self and self[key] != value:
            raise CrevalError(f"{key} is given twice, as {self[key]!r} ({self.origin[key]}) and {value!r} ({where})")
        self[key], self.origin[key] = value, where


def resolve(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    """(model, backend name, backend options) from the parsed ``creval run`` arguments."""
    model, backend = args.model, args.backend
    options = _Options()
    pairs: list[tuple[str, str]] = []
    if args.model_args is not None:
        if model not in LM_EVAL_MODELS:
            raise CrevalError(f"--model_args: with it, --model names lm-eval's model type ({', '.join(LM_EVAL_MODELS)}), "
                              f"got {model!r}; without --model_args, --model is the checkpoint")
        named, implied = LM_EVAL_MODELS[model]
        if backend is not None and backend != named:
            raise CrevalError(f"--model {model} is the {named} backend, but --backend {backend} is given")
        backend = named
        for key, value in implied.items():
            options.put(key, value, f"--model {model}")
        pairs = _parse_model_args(args.model_args)
        given = [v for k, v in pairs if k in MODEL_KEYS]
        if len(given) != 1:
            raise CrevalError(f"--model_args: name the model once, as pretrained=CHECKPOINT (hf, vllm) or model=NAME "
                              f"(openai), got {args.model_args!r}")
        model = given[0]
        pairs = [(RENAMED.get(k, k), v) for k, v in pairs if k not in MODEL_KEYS]
    elif model in LM_EVAL_MODELS and not Path(model).exists():
        raise CrevalError(f"--model {model} is an lm-eval model type: give the checkpoint with --model_args "
                          f"pretrained=CHECKPOINT, or name it with --model CHECKPOINT")
    backend = backend or "hf"
    flags = {"dtype": args.dtype, "device": args.device, "hidden_states": True if args.hidden_states else None,
             "generations": args.generations, "base_url": args.base_url, "served_model": args.served_model,
             "api": args.api, "max_concurrency": args.concurrency, "top_logprobs": args.top_logprobs,
             "tensor_parallel_size": args.tensor_parallel_size, "max_model_len": args.max_model_len,
             "gpu_memory_utilization": args.gpu_memory_utilization,
             "batch_size": None if args.batch_size == "auto" else args.batch_size}
    return model, backend, collect(backend, pairs=pairs, backend_option=args.backend_option or (), flags=flags,
                                   options=options)


def collect(backend: str, *, pairs: Sequence[tuple[str, str]] = (), backend_option: Sequence[tuple[str, str]] = (),
            flags: Mapping[str, Any] | None = None, options: _Options | None = None) -> dict[str, Any]:
    """The ``backend``'s options from ``--model_args`` pairs, ``--backend-option KEY=VALUE`` and flags
    (option -> value, None where not given), each checked against the options the backend declares; one
    option set twice to different values is an error."""
    from .. import registry

    defaults = dict(getattr(registry.load("backends", backend), "defaults", {}))
    options = _Options() if options is None else options
    for key, raw in pairs:
        options.put(key, convert(backend, defaults, key, raw, "--model_args"), "--model_args")
    for key, raw in backend_option:
        options.put(key, convert(backend, defaults, key, raw, "--backend-option"), "--backend-option")
    for key, value in (flags or {}).items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if key not in defaults:
            raise CrevalError(f"{flag} does not apply to the {backend} backend (its options: {', '.join(sorted(defaults))})")
        options.put(key, value, flag)
    return dict(options)


def batch_size(text: str) -> int | str:
    """An argparse type: an integer >= 1, or ``auto`` (lm-eval's spelling of the backend's default)."""
    if text == "auto":
        return text
    from .args import positive_int

    return int(positive_int(text))
