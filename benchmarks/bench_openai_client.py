"""The OpenAI backend's HTTP client against a local server answering at once (``tests/openai_server.py``,
in another process): creval's ``OpenAIBackend.generate`` (httpx, keep-alive, retries, cancellation)
vs a plain baseline, ``urllib`` on a thread pool with one connection per request (what creval did
before). Same prompts, n and concurrency. Reports wall time, client CPU time and the TCP connections
the server accepted (creval's include one for the model listing); then how long each takes to give up when one request fails (HTTP 400) while three
slow ones (``--slow`` s) are in flight: creval cancels them, the baseline waits for them.

This measures client overhead only: a model server takes seconds per request, the client milliseconds.

Usage: python benchmarks/bench_openai_client.py [--prompts 300] [--n 4] [--concurrency 8] [--slow 15]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from creval.backends.openai import OpenAIBackend
from creval.errors import CrevalError
from creval.records import GenerationConfig, Prompt

SERVER = """import sys, time; sys.path.insert(0, {tests!r})
from openai_server import Script, serve
script = Script(); script.faults = {faults!r}
print(serve(script).server_address[1], flush=True); time.sleep(3600)"""


def server(faults: dict) -> tuple[subprocess.Popen, str]:
    code = SERVER.format(tests=str(Path(__file__).parent.parent / "tests"), faults=faults)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    return proc, f"http://127.0.0.1:{proc.stdout.readline().strip()}"  # type: ignore[union-attr]


def baseline(url: str, prompts: list[Prompt], n: int, concurrency: int) -> None:
    def one(p: Prompt) -> dict:
        body = {"model": "tiny", "n": n, "messages": [{"role": "user", "content": p.text}], "logprobs": True,
                "top_logprobs": 20}
        req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            return json.loads(resp.read())

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(one, p) for p in prompts]
        for f in futures:
            f.result()  # the pool's exit waits for requests in flight, as a thread pool does


def measure(name: str, prompts: list[Prompt], faults: dict, args: argparse.Namespace) -> dict:
    proc, url = server(faults)
    try:
        options = {"base_url": url + "/v1", "max_concurrency": args.concurrency, "max_retries": 0}
        engine = OpenAIBackend.load(OpenAIBackend.resolve("tiny", options), options) if name == "creval" else None
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            if engine:
                engine.generate(prompts, GenerationConfig(n=args.n))
            else:
                baseline(url, prompts, args.n, args.concurrency)
        except (CrevalError, OSError) as exc:
            error = str(exc)[:80]
        else:
            error = None
        result = {"client": name, "prompts": len(prompts), "wall_s": round(time.perf_counter() - wall, 2),
                  "cpu_s": round(time.process_time() - cpu, 2), "error": error}
        if engine:
            engine.close()
        with urllib.request.urlopen(url + "/stats") as resp:
            result["connections"] = json.loads(resp.read())["connections"] - 1  # not this one
        return result
    finally:
        proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=300)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--slow", type=float, default=15.0)
    args = parser.parse_args()
    prompts = [Prompt(f"p{i}", f"prompt {i}") for i in range(args.prompts)]
    failing = {f"prompt {i}": [("slow", args.slow)] for i in range(3)} | {"prompt 3": [("status", 400)]}
    for name in ("baseline", "creval"):
        print(json.dumps(measure(name, prompts, {}, args)))
        print(json.dumps({**measure(name, prompts[:12], failing, args), "case": "one 400, three slow in flight"}))


if __name__ == "__main__":
    main()
