"""A scripted OpenAI-compatible server on 127.0.0.1 for failure injection (errors, retries, dropped
connections) and for checking how responses are parsed. It stands in for a real server only where a
test needs behaviour a real one will not produce on demand; tests against the real ``vllm serve`` run
in the vllm tox environment."""
from __future__ import annotations

import json
import math
import threading
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


def _top(k: int) -> list[float]:
    return [math.log(p) for p in PROBS[:k]]


def serve(script: Script):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, code: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._send(200, {"data": [{"id": "tiny", "root": "/ckpt/tiny", "owned_by": "test"}]})
            else:
                self._send(404, {"error": {"message": "no such route"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            script.headers.append(dict(self.headers))
            if script.die_after is not None and len(script.requests) > script.die_after:
                self.connection.close()  # the server "dies": no answer at all
                return
            if script.statuses:
                code = script.statuses.pop(0)
                self._send(code, {"error": {"message": f"scripted {code}"}})
                return
            k = body.get("top_logprobs") or body.get("logprobs") or 0
            n, choices = body["n"], []
            for i in range(n):
                text = f"sample {i} answer \\boxed{{{i}}}"
                if self.path.endswith("/chat/completions"):
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
            self._send(200, {"choices": choices})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server
