"""A scripted OpenAI-compatible server on 127.0.0.1 (real HTTP/1.1 with keep-alive, a thread per
connection) for failure injection and for checking how responses are parsed. It stands in for a real
server only where a test needs behaviour a real one will not produce on demand (429 with Retry-After,
500, dropped connections, slow answers); tests against the real ``vllm serve`` run in the vllm tox
environment.

Faults are scripted per prompt (keyed by the prompt text, or the last chat message) and consumed one
per request: ``("status", code)`` / ``("status", code, {header: value})`` answers that error,
``("drop",)`` reads the request and closes the connection without an answer, ``("slow", seconds)``
waits that long before answering normally (noting it in ``hangups`` if the client hangs up first).
The server counts requests per prompt (``arrivals``: their times) and TCP connections accepted."""
from __future__ import annotations

import json
import math
import select
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VOCAB = 30
# a fixed distribution over VOCAB tokens: its exact entropy is known
WEIGHTS = [1.0 / (i + 1) ** 1.3 for i in range(VOCAB)]
PROBS = [w / sum(WEIGHTS) for w in WEIGHTS]
EXACT_ENTROPY = -sum(p * math.log(p) for p in PROBS)


class Script:
    def __init__(self) -> None:
        self.statuses: list[int] = []  # answered in order before normal replies
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.die_after: int | None = None  # stop answering after this many completions
        self.faults: dict[str, list[tuple]] = {}  # prompt -> faults, one consumed per request
        self.echo = False  # answer "<prompt> sample <i>" (to check which answer went where)
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # prompt -> monotonic arrival times
        self.hangups: list[str] = []  # slow prompts whose client hung up before the answer
        self.connections = 0  # TCP connections accepted
        self.stopping = threading.Event()
        self.lock = threading.Lock()


def _top(k: int) -> list[float]:
    return [math.log(p) for p in PROBS[:k]]


def _key(body: dict) -> str:
    return body["messages"][-1]["content"] if "messages" in body else body.get("prompt", "")


@contextmanager
def running(script: Script) -> Iterator[str]:
    """A server for ``script`` on a free local port while the block runs; yields its /v1 base URL."""
    srv = serve(script)
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally:
        script.stopping.set()
        srv.shutdown()
        srv.server_close()


def serve(script: Script):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many requests

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as real servers do
            with script.lock:
                script.connections += 1

        def log_message(self, *args):  # quiet
            pass

        def _send(self, code: int, payload: dict, headers: dict | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value() if callable(value) else value)
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _client_hung_up(self, seconds: float) -> bool:
            """Wait up to ``seconds``; True as soon as the client closes the connection."""
            end = time.monotonic() + seconds
            while time.monotonic() < end and not script.stopping.is_set():
                readable, _, _ = select.select([self.connection], [], [], 0.02)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return True
            return False

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._send(200, {"data": [{"id": "tiny", "root": "/ckpt/tiny", "owned_by": "test"}]})
            elif self.path == "/stats":  # for a benchmark running the server in another process
                self._send(200, {"connections": script.connections, "requests": len(script.requests)})
            else:
                self._send(404, {"error": {"message": "no such route"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = _key(body)
            with script.lock:
                script.requests.append(body)
                script.headers.append(dict(self.headers))
                script.arrivals[key].append(time.monotonic())
                planned = script.faults.get(key)
                fault = planned.pop(0) if planned else None
            if script.die_after is not None and len(script.requests) > script.die_after:
                return self._drop()  # the server "dies": no answer at all
            if script.statuses:
                code = script.statuses.pop(0)
                return self._send(code, {"error": {"message": f"scripted {code}"}})
            if fault and fault[0] == "status":
                return self._send(fault[1], {"error": {"message": f"scripted {fault[1]}"}}, *fault[2:])
            if fault and fault[0] == "drop":
                return self._drop()
            if fault and fault[0] == "slow" and self._client_hung_up(fault[1]):
                script.hangups.append(key)
                return self._drop()
            self._send(200, {"choices": _choices(self.path, body, key if script.echo else None)})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server


def _choices(path: str, body: dict, echo: str | None) -> list[dict]:
    k = body.get("top_logprobs") or body.get("logprobs") or 0
    choices = []
    for i in range(body["n"]):
        text = f"{echo} sample {i}" if echo is not None else f"sample {i} answer \\boxed{{{i}}}"
        if path.endswith("/chat/completions"):
            steps = [{"token": t, "logprob": _top(k)[0] if k else -1.0,
                      "top_logprobs": [{"token": str(j), "logprob": lp} for j, lp in enumerate(_top(k))]}
                     for t in text.split()]
            choices.append({"index": i, "message": {"role": "assistant", "content": text},
                            "finish_reason": "length" if i == 0 else "stop",
                            "logprobs": {"content": steps} if body.get("logprobs") else None})
        else:
            tokens = text.split()
            choices.append({"index": i, "text": text, "finish_reason": "stop",
                            "logprobs": {"tokens": tokens, "token_logprobs": [_top(k)[0]] * len(tokens),
                                         "top_logprobs": [{str(j): lp for j, lp in enumerate(_top(k))}
                                                          for _ in tokens]} if k else None})
    return choices[::-1]  # out of order: the client sorts by index
