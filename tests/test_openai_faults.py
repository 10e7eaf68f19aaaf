"""The OpenAI-compatible backend through injected faults on a real local HTTP server: 429 with
Retry-After (seconds and HTTP-date), 408/409/5xx, dropped connections, slow answers; every request
answered once and in order, Retry-After honoured, a permanent failure raised at once with the requests
in flight cancelled, connections kept alive, options checked."""
import email.utils
import signal
import sys
import threading
import time

import pytest
from openai_server import Script, running

from creval.backends._http import retry_after
from creval.backends.openai import OpenAIBackend, OpenAIOptions
from creval.errors import CrevalError
from creval.records import GenerationConfig, Prompt


@pytest.fixture
def server():
    script = Script()
    script.echo = True
    with running(script) as url:
        yield script, url


def backend(url, **extra):
    options = {"base_url": url, "backoff": 0.01, "vocab_size": 30, "max_concurrency": 4, **extra}
    return OpenAIBackend.load(OpenAIBackend.resolve("tiny", options), options)


def eventually(condition, seconds=2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def in_2s() -> str:  # an HTTP-date (whole seconds) 1-2 s from now, written when the answer is sent
    return email.utils.formatdate(time.time() + 2, usegmt=True)


def test_every_request_is_answered_once_in_order_through_faults(server):
    script, url = server
    prompts = [Prompt(f"p{i:02d}", f"prompt {i:02d}", style="chat" if i % 2 else "completion") for i in range(20)]
    script.faults = {
        "prompt 00": [("status", 429, {"Retry-After": "1"})],
        "prompt 01": [("status", 503, {"Retry-After": in_2s})],
        "prompt 02": [("status", 500), ("status", 502)],
        "prompt 03": [("drop",)],
        "prompt 04": [("slow", 3.0)],  # past the 0.5 s read timeout: abandoned, then retried
        "prompt 05": [("status", 408), ("drop",)],
        "prompt 06": [("status", 409)],
        "prompt 07": [("status", 504), ("status", 429, {"Retry-After": "0"}), ("drop",)],
    }
    faults = {k: len(v) for k, v in script.faults.items()}
    seen = []
    start = time.monotonic()
    engine = backend(url, timeout=0.5)
    out = engine.generate(prompts, GenerationConfig(n=3), progress=seen.append)
    engine.close()
    assert time.monotonic() - start < 10  # ~2 s: the Retry-After waits overlap
    assert [[g.text for g in samples] for samples in out] == [[f"prompt {i:02d} sample {j}" for j in range(3)]
                                                             for i in range(20)]
    assert {key: len(times) for key, times in script.arrivals.items()} == {
        f"prompt {i:02d}": 1 + faults.get(f"prompt {i:02d}", 0) for i in range(20)}
    assert sum(seen) == 20
    retried_after = {key: script.arrivals[key][1] - script.arrivals[key][0] for key in faults}
    assert retried_after["prompt 00"] >= 1.0  # Retry-After: 1 (the backoff alone would wait ~0.01 s)
    assert retried_after["prompt 01"] >= 1.0  # Retry-After: an HTTP-date 1-2 s ahead
    assert retried_after["prompt 02"] < 0.5 and retried_after["prompt 04"] >= 0.5
    assert eventually(lambda: script.hangups == ["prompt 04"])  # the timed-out request's connection was closed


def test_a_permanent_failure_raises_at_once_and_cancels_requests_in_flight(server):
    script, url = server
    prompts = [Prompt(f"p{i}", f"prompt {i}") for i in range(12)]
    script.faults = {f"prompt {i}": [("slow", 30.0)] for i in range(3)}
    script.faults["prompt 3"] = [("status", 400)]
    engine = backend(url, timeout=60)
    start = time.monotonic()
    with pytest.raises(CrevalError, match="chat/completions answered HTTP 400: scripted 400"):
        engine.generate(prompts, GenerationConfig(n=2))
    assert time.monotonic() - start < 2  # not the 30 s the slow requests would take
    assert eventually(lambda: len(script.hangups) == 3)  # the slow requests' connections were closed
    assert sorted(script.hangups) == ["prompt 0", "prompt 1", "prompt 2"]
    assert sorted(script.arrivals) == [f"prompt {i}" for i in range(4)]  # the queued prompts never went out
    engine.close()


def test_ctrl_c_cancels_the_requests_in_flight(server):
    script, url = server
    prompts = [Prompt(f"p{i}", f"prompt {i}") for i in range(8)]
    script.faults = {p.text: [("slow", 30.0)] for p in prompts}
    engine = backend(url, timeout=60)
    main = threading.get_ident()
    sent: list[float] = []

    def interrupt_when_all_are_in_flight():
        while len(script.arrivals) < 4:
            if script.stopping.is_set():  # the test is over: never interrupt the next one
                return
            time.sleep(0.01)
        sent.append(time.monotonic())
        signal.pthread_kill(main, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as Python's default
    threading.Thread(target=interrupt_when_all_are_in_flight, daemon=True).start()
    start, interrupted = time.monotonic(), False
    try:
        engine.generate(prompts, GenerationConfig(n=1))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, previous)
    # (not interrupted once in a fresh-clone CI run under load: the message says which side it was on)
    elapsed = time.monotonic() - start
    assert interrupted and elapsed < 2, (interrupted, elapsed, [t - start for t in sent], dict(script.arrivals))
    assert eventually(lambda: len(script.hangups) == 4)  # cancelled, before any close()
    assert sorted(script.hangups) == [f"prompt {i}" for i in range(4)] and len(script.arrivals) == 4
    engine.close()


def test_exhausted_retries_and_long_retry_after_are_clear_errors(server):
    script, url = server
    script.faults = {"x": [("status", 500)] * 3}
    engine = backend(url, max_retries=2)
    start = time.monotonic()
    with pytest.raises(CrevalError, match=r"failed after 3 tries \(HTTP 500: scripted 500\)"):
        engine.generate([Prompt("a", "x")], GenerationConfig(n=1))
    script.faults = {"x": [("status", 429, {"Retry-After": "3600"})]}
    with pytest.raises(CrevalError, match="HTTP 429 asking to retry after 3600 s"):
        engine.generate([Prompt("a", "x")], GenerationConfig(n=1))
    assert time.monotonic() - start < 2  # neither waits: not an hour, and the backoff is 0.01 s
    assert len(script.arrivals["x"]) == 4
    engine.close()


def test_connections_are_kept_alive_across_requests_and_calls(server):
    script, url = server
    engine = backend(url)
    prompts = [Prompt(f"p{i}", f"prompt {i}") for i in range(20)]
    for _ in range(2):
        assert len(engine.generate(prompts, GenerationConfig(n=2))) == 20
    engine.close()
    assert len(script.requests) == 40 and script.connections <= 4 + 1  # 4 for requests, 1 for GET /models


def test_retry_after_parsing():
    now = 1_700_000_000.0
    assert retry_after("7", now) == 7.0 and retry_after("1.5", now) == 1.5 and retry_after("-3", now) == 0.0
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0  # a date gone by: at once
    assert retry_after(None) is None and retry_after("soon") is None


def test_options_are_checked_and_converted():
    o = OpenAIOptions.parse({"base_url": "http://h:1/v1/", "timeout": "30", "max_retries": "0", "max_concurrency": 2})
    assert (o.base_url, o.timeout, o.max_retries, o.max_concurrency) == ("http://h:1/v1", 30.0, 0, 2)
    assert OpenAIBackend.signature({"base_url": "http://h:1/v1", "vocab_size": "50000"}) == "openai/1:api=auto:K=20:V=50000"
    for bad, message in [({"timeout": "0"}, "timeout must be a number > 0, got '0'"),
                         ({"max_concurrency": 0}, "max_concurrency must be a whole number >= 1"),
                         ({"max_retries": 1.5}, "max_retries must be a whole number >= 0"),
                         ({"vocab_size": True}, "vocab_size must be a whole number"),
                         ({"api_key_env": "MY KEY"}, "api_key_env must name an environment variable"),
                         ({"concurrency": 4}, r"unknown options \['concurrency'\]; known: \["),
                         ({"base_url": "127.0.0.1:8000"}, "base_url must be an http\\(s\\) URL")]:
        with pytest.raises(CrevalError, match=message):
            OpenAIOptions.parse({"base_url": "http://h:1/v1", **bad})


def test_an_unset_api_key_variable_or_missing_httpx_is_a_clear_error(server, monkeypatch):
    _, url = server
    monkeypatch.delenv("CREVAL_TEST_NO_SUCH_KEY", raising=False)
    with pytest.raises(CrevalError, match=r"api_key_env names \$CREVAL_TEST_NO_SUCH_KEY, which is not set"):
        OpenAIBackend.resolve("tiny", {"base_url": url, "api_key_env": "CREVAL_TEST_NO_SUCH_KEY"})
    monkeypatch.setitem(sys.modules, "httpx", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "creval.backends._http")
    with pytest.raises(CrevalError, match=r"needs httpx and tenacity .*pip install 'creval\[openai\]'"):
        OpenAIBackend.resolve("tiny", {"base_url": url})
