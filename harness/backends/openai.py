"""OpenAI-compatible backend: any server speaking the OpenAI completions / chat completions API
(``vllm serve``, SGLang, TGI, hosted endpoints): ``creval run --backend openai --base-url URL --model NAME``.

One request per prompt asks for all n samples (``n``), with the prompt's seed (derived from run seed and
prompt id), ``temperature``, ``top_p``, ``max_tokens``, ``stop`` and the top-K log-probabilities of
every step (``logprobs`` / ``top_logprobs``, K = 20 by default, vLLM's limit), from which the token
entropy is estimated with bounds (``creval.backends.topk``; the entropy is of the distribution the
server's log-probabilities describe: for vLLM the model's raw distribution unless the server runs with
``--logprobs-mode processed_logprobs``). Chat prompts go to ``/chat/completions``, completion prompts to
``/completions`` (``--api`` forces one).

Requests run concurrently on a bounded pool (``--concurrency``, default 8). 429, 5xx, timeouts and
dropped connections are retried with exponential backoff and jitter (5 retries); any other 4xx is a
clear error at once. The API key is read from ``$OPENAI_API_KEY`` (or the variable named by
``api_key_env``) and sent only in the Authorization header: never stored, printed or hashed.

A remote model has no weights to fingerprint: its cells are keyed by base URL, model id and the
``root`` the server reports for it (vLLM: the checkpoint path), so restarting the server with other
weights under the same name and path is not noticed. Prefer local backends for trajectories.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import CrevalError
from ..records import Generation, GenerationConfig, Prompt
from . import Progress, Source, merge_options, sample_seed
from .topk import entropy_fields, kind

_DEFAULTS: dict[str, Any] = {"base_url": None, "served_model": None, "api": "auto", "concurrency": 8,
                             "top_logprobs": 20, "max_retries": 5, "timeout": 600.0, "api_key_env": "OPENAI_API_KEY",
                             "vocab_size": 262144, "backoff": 0.5}


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    merged = merge_options("openai", options, _DEFAULTS)
    if not merged["base_url"]:
        raise CrevalError("openai backend: give the server with --base-url, e.g. http://127.0.0.1:8000/v1")
    merged["base_url"] = str(merged["base_url"]).rstrip("/")
    if isinstance(merged["vocab_size"], bool) or not isinstance(merged["vocab_size"], int) or merged["vocab_size"] < 2:
        raise CrevalError(f"openai backend: vocab_size must be an integer >= 2, got {merged['vocab_size']!r}")
    if merged["api"] not in ("auto", "chat", "completions"):
        raise CrevalError(f"openai backend: api must be auto, chat or completions, got {merged['api']!r}")
    return merged


class ServerError(Exception):
    pass


class OpenAIBackend:
    name = "openai"
    description = "any OpenAI-compatible server (vllm serve, SGLang, TGI, hosted); top-K entropy estimate"
    defaults = _DEFAULTS

    def __init__(self, model: str, options: Mapping[str, Any]) -> None:
        self.model = model
        self.o = dict(options)
        self.entropy_kind = kind(int(self.o["top_logprobs"]))

    # identity ------------------------------------------------------------------------------------
    @classmethod
    def resolve(cls, model: str, options: Mapping[str, Any]) -> Source:
        o = _options(options)
        name = o["served_model"] or model
        listing = _Client(o).request("GET", "/models", None)
        entry = next((m for m in listing.get("data", []) if m.get("id") == name), None)
        if entry is None:
            served = ", ".join(m.get("id", "?") for m in listing.get("data", [])) or "none"
            raise CrevalError(f"openai backend: {o['base_url']} does not serve model {name!r} (it serves: {served})")
        identity = json.dumps([o["base_url"], name, entry.get("root"), entry.get("owned_by")])
        return Source(f"{o['base_url']}#{name}", "remote-" + hashlib.sha256(identity.encode()).hexdigest()[:16])

    @classmethod
    def signature(cls, options: Mapping[str, Any]) -> str:
        o = _options(options)
        return f"openai/1:api={o['api']}:K={o['top_logprobs']}:V={o['vocab_size']}"

    @classmethod
    def load(cls, source: Source | Path | str, options: Mapping[str, Any]) -> OpenAIBackend:
        o = _options(options)
        where = source.location if isinstance(source, Source) else str(source)
        return cls(o["served_model"] or where.rsplit("#", 1)[-1], o)

    # generation ----------------------------------------------------------------------------------
    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig, progress: Progress | None = None) -> list[list[Generation]]:
        client = _Client(self.o)

        def one(prompt: Prompt) -> list[Generation]:
            result = self._request(client, prompt, config)
            if progress:
                progress(1)
            return result

        with ThreadPoolExecutor(max_workers=max(1, int(self.o["concurrency"]))) as pool:
            futures = [pool.submit(one, p) for p in prompts]
            try:
                return [f.result() for f in futures]
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def _request(self, client: _Client, prompt: Prompt, config: GenerationConfig) -> list[Generation]:
        chat = self.o["api"] == "chat" or (self.o["api"] == "auto" and prompt.style == "chat")
        k = int(self.o["top_logprobs"])
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
            reply = client.request("POST", "/chat/completions", body)
        else:
            text = f"{prompt.system}\n\n{prompt.text}" if prompt.system else prompt.text
            body.update(prompt=text, logprobs=k if k > 0 else None)
            reply = client.request("POST", "/completions", body)
        choices = sorted(reply.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != config.n:
            raise CrevalError(f"openai backend: asked for n={config.n} samples, the server returned {len(choices)}")
        return [self._generation(c, chat, seed) for c in choices]

    def _generation(self, choice: Mapping[str, Any], chat: bool, seed: int) -> Generation:
        vocab = int(self.o["vocab_size"])
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
            **entropy_fields([sorted(t, reverse=True) for t in tops], vocab, int(self.o["top_logprobs"])),
        )


class _Client:
    """JSON over HTTP with retries; the API key travels only in the Authorization header."""

    def __init__(self, o: Mapping[str, Any]) -> None:
        self.base, self.o = o["base_url"], o
        self.key = os.environ.get(o["api_key_env"], "")

    def request(self, method: str, path: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        url = self.base + path
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        last = ""
        for attempt in range(int(self.o["max_retries"]) + 1):
            if attempt:
                time.sleep(min(8.0, self.o["backoff"] * 2 ** (attempt - 1)) * (0.5 + random.random()))
            try:
                req = urllib.request.Request(url, data=data, headers=headers, method=method)
                with urllib.request.urlopen(req, timeout=float(self.o["timeout"])) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                detail = _message(exc)
                if exc.code == 429 or exc.code >= 500:
                    last = f"HTTP {exc.code}: {detail}"
                    continue
                raise CrevalError(f"openai backend: {method} {url} answered HTTP {exc.code}: {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
                continue
            except ValueError as exc:
                raise CrevalError(f"openai backend: {method} {url} did not answer JSON ({exc})") from None
        raise CrevalError(f"openai backend: {method} {url} failed after {int(self.o['max_retries']) + 1} tries ({last})")


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
        error = payload.get("error", payload)
        return str(error.get("message", error) if isinstance(error, dict) else error)[:300]
    except (ValueError, AttributeError):
        return exc.reason if isinstance(exc.reason, str) else "no detail"
