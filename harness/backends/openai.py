"""OpenAI-compatible backend: any server speaking the OpenAI completions / chat completions API
(``vllm serve``, SGLang, TGI, hosted endpoints): ``creval run --backend openai --base-url URL --model NAME``.

One request per prompt asks for all n samples (``n``), with the prompt's seed (derived from run seed and
prompt id), ``temperature``, ``top_p``, ``max_tokens``, ``stop`` and the top-K log-probabilities of
every step (``logprobs`` / ``top_logprobs``, K = 20 by default, vLLM's limit), from which the token
entropy is estimated with bounds (``creval.backends.topk``; the entropy is of the distribution the
server's log-probabilities describe: for vLLM the model's raw distribution unless the server runs with
``--logprobs-mode processed_logprobs``). Chat prompts go to ``/chat/completions``, completion prompts to
``/completions`` (``--api`` forces one).

HTTP (``creval.backends._http``, on ``httpx`` + ``tenacity``, the ``openai`` extra): keep-alive
connections, at most ``max_concurrency`` requests in flight, retries with backoff that honour
``Retry-After``, and on a failure the requests still in flight are cancelled. The API key is read from
``$OPENAI_API_KEY`` (or the variable named by ``api_key_env``) and sent only in the Authorization
header: never stored, printed or hashed.

A remote model has no weights to fingerprint: its cells are keyed by base URL, model id and the
``root`` the server reports for it (vLLM: the checkpoint path), so restarting the server with other
weights under the same name and path is not noticed. Prefer local backends for trajectories.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CrevalError
from ..records import Generation, GenerationConfig, Prompt
from . import Progress, Source, sample_seed
from .topk import entropy_fields, kind

if TYPE_CHECKING:
    from ._http import Client

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


@dataclass(frozen=True)
class OpenAIOptions:
    """The backend's options, as keyword arguments (``--base-url`` and friends, ``--backend-option
    KEY=VALUE``, a manifest's ``backend_options``). Values may come as strings from a command line:
    each is checked and converted, and a bad one is a ``CrevalError`` naming it."""

    base_url: str
    served_model: str | None = None  # the name the server knows; default: --model
    api: str = "auto"  # auto (chat prompts to /chat/completions, others to /completions) | chat | completions
    max_concurrency: int = 8  # requests in flight, and connections kept alive
    top_logprobs: int = 20  # K log-probabilities per step, for the entropy estimate
    vocab_size: int = 262144  # V in the entropy upper bound (part of the signature)
    timeout: float = 600.0  # seconds to wait for an answer (read timeout)
    connect_timeout: float = 10.0  # seconds to wait for a connection
    max_retries: int = 5  # tries after the first one
    backoff: float = 0.5  # seconds: the first retry's wait window, doubling each retry (at most 8 s)
    api_key_env: str = DEFAULT_KEY_ENV  # the environment variable holding the API key

    def __post_init__(self) -> None:
        url = _text("base_url", self.base_url).rstrip("/")
        if not re.match(r"https?://[^/\s]+", url):
            raise CrevalError(f"openai backend: base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {url!r}")
        fix = {"base_url": url,
               "max_concurrency": _number("max_concurrency", self.max_concurrency, int, 1),
               "top_logprobs": _number("top_logprobs", self.top_logprobs, int, 0),
               "vocab_size": _number("vocab_size", self.vocab_size, int, 2),
               "timeout": _number("timeout", self.timeout, float, 0, strict=True),
               "connect_timeout": _number("connect_timeout", self.connect_timeout, float, 0, strict=True),
               "max_retries": _number("max_retries", self.max_retries, int, 0),
               "backoff": _number("backoff", self.backoff, float, 0)}
        if self.served_model is not None:
            fix["served_model"] = _text("served_model", self.served_model)
        if self.api not in ("auto", "chat", "completions"):
            raise CrevalError(f"openai backend: api must be auto, chat or completions, got {self.api!r}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(self.api_key_env)):
            raise CrevalError(f"openai backend: api_key_env must name an environment variable, got {self.api_key_env!r}")
        for name, value in fix.items():
            object.__setattr__(self, name, value)

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> OpenAIOptions:
        """From a mapping of options; None means not given, an unknown name is an error listing the known ones."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = set(options) - set(known)
        if unknown:
            raise CrevalError(f"openai backend: unknown options {sorted(unknown)}; known: {sorted(known)}")
        given = {k: v for k, v in options.items() if v is not None}
        if not given.get("base_url"):
            raise CrevalError("openai backend: give the server with --base-url, e.g. http://127.0.0.1:8000/v1")
        return cls(**given)

    def client(self) -> Client:
        try:
            from ._http import Client
        except ImportError as exc:
            raise CrevalError(f"the openai backend needs httpx and tenacity ({exc}): pip install 'creval[openai]'") from None
        key = os.environ.get(self.api_key_env, "")
        if not key and self.api_key_env != DEFAULT_KEY_ENV:
            raise CrevalError(f"openai backend: api_key_env names ${self.api_key_env}, which is not set")
        return Client(self.base_url, headers={"Authorization": f"Bearer {key}"} if key else {},
                      max_concurrency=self.max_concurrency, timeout=self.timeout, connect_timeout=self.connect_timeout,
                      max_retries=self.max_retries, backoff=self.backoff)


# the options and their defaults (base_url has none), for --backend-option and --model_args
_DEFAULTS: dict[str, Any] = {f.name: None if f.default is dataclasses.MISSING else f.default
                             for f in dataclasses.fields(OpenAIOptions)}


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise CrevalError(f"openai backend: {name} must be a non-empty string, got {value!r}")
    return value


def _number(name: str, value: Any, typ: type, low: float, strict: bool = False) -> Any:
    what = "a whole number" if typ is int else "a number"
    bound = f"{'>' if strict else '>='} {low:g}"
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        number = float(value)
        if typ is int and not number.is_integer():
            raise ValueError
    except ValueError:
        raise CrevalError(f"openai backend: {name} must be {what} {bound}, got {value!r}") from None
    if not math.isfinite(number) or not (number > low if strict else number >= low):
        raise CrevalError(f"openai backend: {name} must be {what} {bound}, got {value!r}")
    return typ(number)


class OpenAIBackend:
    name = "openai"
    description = "any OpenAI-compatible server (vllm serve, SGLang, TGI, hosted); top-K entropy estimate"
    defaults = _DEFAULTS

    def __init__(self, model: str, options: OpenAIOptions) -> None:
        self.model = model
        self.o = options
        self.entropy_kind = kind(options.top_logprobs)
        self._client: Client | None = None

    # identity ------------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, model: str, options: Mapping[str, Any]) -> Source:
        o = OpenAIOptions.parse(options)
        name = o.served_model or model
        with o.client() as client:
            listing = client.run(client.request("GET", "/models"))
        entry = next((m for m in listing.get("data", []) if m.get("id") == name), None)
        if entry is None:
            served = ", ".join(m.get("id", "?") for m in listing.get("data", [])) or "none"
            raise CrevalError(f"openai backend: {o.base_url} does not serve model {name!r} (it serves: {served})")
        identity = json.dumps([o.base_url, name, entry.get("root"), entry.get("owned_by")])
        return Source(f"{o.base_url}#{name}", "remote-" + hashlib.sha256(identity.encode()).hexdigest()[:16])

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str:
        o = OpenAIOptions.parse(options)
        return f"openai/1:api={o.api}:K={o.top_logprobs}:V={o.vocab_size}"

    @classmethod
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> OpenAIBackend:
        o = OpenAIOptions.parse(options)
        where = source.location if isinstance(source, Source) else str(source)
        return cls(o.served_model or where.rsplit("#", 1)[-1], o)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # generation ----------------------------------------------------------------------------------
    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None) -> list[list[Generation]]:
        """All prompts' samples, in prompt order; the first request that fails for good cancels the rest
        and raises its ``CrevalError``."""
        if self._client is None:  # one client for the backend's life: its connections stay open between tasks
            self._client = self.o.client()
        client = self._client

        def job(prompt: Prompt) -> Callable[[], Awaitable[list[Generation]]]:
            async def one() -> list[Generation]:
                result = await self._request(client, prompt, config)
                if progress:
                    progress(1)
                return result
            return one

        return client.map([job(p) for p in prompts])

    async def _request(self, client: Client, prompt: Prompt, config: GenerationConfig) -> list[Generation]:
        chat = self.o.api == "chat" or (self.o.api == "auto" and prompt.style == "chat")
        k = self.o.top_logprobs
        seed = sample_seed(config.seed, prompt.id, 0) % (2**31)
        body: dict[str, Any] = {"model": self.model, "n": config.n, "temperature": config.temperature,
                                "top_p": config.top_p, "max_tokens": config.max_new_tokens, "seed": seed}
        if config.stop:
            body["stop"] = list(config.stop)
        if chat:
            messages = ([{"role": "system", "content": prompt.system}] if prompt.system else [])
            body.update(messages=messages + [{"role": "user", "content": prompt.text}], logprobs=k > 0)
            if k > 0:
                body["top_logprobs"] = k
            reply = await client.request("POST", "/chat/completions", body)
        else:
            text = f"{prompt.system}\n\n{prompt.text}" if prompt.system else prompt.text
            body.update(prompt=text, logprobs=k if k > 0 else None)
            reply = await client.request("POST", "/completions", body)
        choices = sorted(reply.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != config.n:
            raise CrevalError(f"openai backend: asked for n={config.n} samples, the server returned {len(choices)}")
        return [self._generation(c, chat, seed) for c in choices]

    def _generation(self, choice: Mapping[str, Any], chat: bool, seed: int) -> Generation:
        vocab = self.o.vocab_size
        if chat:
            text = (choice.get("message") or {}).get("content") or ""
            steps = ((choice.get("logprobs") or {}).get("content")) or []
            tokens = [s.get("token", "") for s in steps]
            chosen = [float(s["logprob"]) for s in steps]
            tops = [[float(t["logprob"]) for t in s.get("top_logprobs") or []] for s in steps]
        else:
            text = choice.get("text") or ""
            lp = choice.get("logprobs") or {}
            tokens = lp.get("tokens") or []
            chosen = [float(x) if x is not None else 0.0 for x in lp.get("token_logprobs") or []]
            tops = [list((t or {}).values()) for t in lp.get("top_logprobs") or []]
        ids = tuple(int(t.split(":", 1)[1]) for t in tokens) if tokens and all(
            str(t).startswith("token_id:") for t in tokens) else ()
        return Generation(
            text=text, token_ids=ids, chosen_logprobs=tuple(chosen), seed=seed,
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            **entropy_fields([sorted(t, reverse=True) for t in tops], vocab, self.o.top_logprobs),
        )

