"""HTTP for the OpenAI-compatible backend: one ``httpx.AsyncClient`` (keep-alive, at most
``max_concurrency`` connections) on an event loop in a thread of its own, so a backend keeps its
connections across ``generate`` calls and works the same inside a caller's running event loop.

Retries (``tenacity``): 408, 409, 429 and 5xx answers, connect and read timeouts and dropped
connections, with full-jitter exponential backoff (a random wait in [0, backoff * 2^(attempt-1)],
at most 8 s) or, when the answer carries ``Retry-After`` (seconds or an HTTP-date), that long plus up to
10 %. Any other 4xx, or a ``Retry-After`` over 120 s, is a ``CrevalError`` at once. ``map`` runs jobs
on a bounded pool of workers and, when one fails for good, cancels the others (closing their
connections) before raising, so a failure surfaces in well under a second, not after the read timeout.
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..errors import CrevalError

T = TypeVar("T")
RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 120.0
# transport failures worth another try: timeouts, refused / reset connections, a server hanging up
RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date; None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
        error = payload.get("error", payload)
        return str(error.get("message", error) if isinstance(error, dict) else error)[:300]
    except (ValueError, AttributeError):
        return response.reason_phrase or "no detail"


class Client:
    def __init__(self, base_url: str, *, headers: Mapping[str, str], max_concurrency: int, timeout: float,
                 connect_timeout: float, max_retries: int, backoff: float) -> None:
        self.base, self.max_concurrency, self.max_retries = base_url, max_concurrency, max_retries
        self._wait_backoff = wait_random_exponential(multiplier=backoff, max=MAX_BACKOFF)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="creval-openai-http", daemon=True)
        self.thread.start()
        self._stop_unclosed = weakref.finalize(self, self.loop.call_soon_threadsafe, self.loop.stop)  # never closed

        async def make() -> httpx.AsyncClient:
            return httpx.AsyncClient(
                headers=dict(headers), timeout=httpx.Timeout(timeout, connect=connect_timeout, pool=None),
                limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency))

        self.http = self.run(make())

    # running on the client's loop --------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the client's loop and wait for it; an interrupt (Ctrl-C) cancels it."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def map(self, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        return self.run(self._map(jobs))

    async def _map(self, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        results: list[Any] = [None] * len(jobs)
        queue = iter(enumerate(jobs))

        async def worker() -> None:
            for i, job in queue:  # one loop, one thread: handing out the next job needs no lock
                results[i] = await job()

        workers = [asyncio.ensure_future(worker()) for _ in range(min(self.max_concurrency, len(jobs)))]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION) if workers else (set(), set())
        finally:  # on a failure (or our own cancellation) the requests still in flight are abandoned
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        for w in workers:
            if w in done and w.exception() is not None:
                raise w.exception()  # type: ignore[misc]
        return results

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self._stop_unclosed.detach()
        self.run(self.http.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # one request, retried ------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        if after is not None:
            return after * (1 + 0.1 * random.random())
        return self._wait_backoff(state)

    async def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer of ``method path``; a ``CrevalError`` once the retries are spent or at a 4xx."""
        url = self.base + path
        retrying = AsyncRetrying(stop=stop_after_attempt(self.max_retries + 1), wait=self._wait,
                                 retry=retry_if_exception_type(Retryable), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(method, url, body)
        except Retryable as exc:
            raise CrevalError(f"openai backend: {method} {url} failed after {self.max_retries + 1} tries ({exc})") from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _once(self, method: str, url: str, body: Mapping[str, Any] | None) -> dict[str, Any]:
        try:
            response = await self.http.request(method, url, json=body)
        except RETRY_ERRORS as exc:
            raise Retryable(f"{type(exc).__name__}: {exc or 'no detail'}") from None
        except httpx.HTTPError as exc:
            raise CrevalError(f"openai backend: {method} {url}: {type(exc).__name__}: {exc}") from None
        code = response.status_code
        if code in RETRY_STATUSES or code >= 500:
            wait = retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > MAX_RETRY_AFTER:
                raise CrevalError(f"openai backend: {method} {url} answered HTTP {code} asking to retry after "
                                  f"{wait:.0f} s (more than {MAX_RETRY_AFTER:.0f} s): try again later")
            raise Retryable(f"HTTP {code}: {_detail(response)}", wait)
        if code >= 400:
            raise CrevalError(f"openai backend: {method} {url} answered HTTP {code}: {_detail(response)}")
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise CrevalError(f"openai backend: {method} {url} did not answer JSON ({exc})") from None
