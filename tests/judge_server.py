"""A fake LLM judge behind an OpenAI-compatible chat endpoint on 127.0.0.1 (it stands in for a judge
model in the main suite; the real ``vllm serve`` judges in the vllm tox environment): to an equivalence
prompt it answers "Yes." when the two responses are equal ignoring case, spaces and punctuation, else
"No"; to a rating prompt "Rating: 8" when the response says "good", else "3/10". ``reply`` replaces that
answer (a malformed judge); the first ``failures`` requests get HTTP 500 (a server that recovers)."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def verdict(prompt: str) -> str:
    if prompt.endswith("Rating (1-10):"):
        return "Rating: 8" if "good" in prompt.split("Response:\n", 1)[1] else "3/10"
    a = prompt.split("Response A:\n", 1)[1].split("\n\nResponse B:\n", 1)
    return "Yes." if _norm(a[0]) == _norm(a[1].rsplit("\n\nAnswer (yes or no):", 1)[0]) else "No"


def serve(requests: list[dict], reply=verdict, failures: int = 0):
    failing = [failures]
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, payload: dict, code: int = 200) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send({"data": [{"id": "judge", "root": "/ckpt/judge", "owned_by": "test"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            if failing[0] > 0:
                failing[0] -= 1
                return self._send({"error": "overloaded"}, 500)
            text = reply(body["messages"][-1]["content"])
            self._send({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
