"""The OpenAI-compatible backend: parsing, top-K entropy with bounds, retries, errors, the API key,
and a crash mid-run leaving no partial cell."""
import pytest
from openai_server import EXACT_ENTROPY, Script, running

import creval
from creval.backends.openai import OpenAIBackend
from creval.errors import CrevalError
from creval.records import GenerationConfig, Prompt
from creval.store import Store


@pytest.fixture
def server():
    script = Script()
    with running(script) as url:
        yield script, url


def backend(url, **extra):
    options = {"base_url": url, "backoff": 0.01, "vocab_size": 30, **extra}
    return OpenAIBackend.load(OpenAIBackend.resolve("tiny", options), options)


def test_chat_and_completions_are_parsed_with_entropy_bounds(server):
    script, url = server
    prompts = [Prompt("c", "Say hi", system="Be brief."), Prompt("p", "2 + 2 =", style="completion")]
    out = backend(url, top_logprobs=5).generate(prompts, GenerationConfig(n=3, temperature=0.7, max_new_tokens=9, seed=1))
    chat_req = next(r for r in script.requests if "messages" in r)  # requests run concurrently: any order
    completion_req = next(r for r in script.requests if "prompt" in r)
    assert chat_req["messages"][0] == {"role": "system", "content": "Be brief."} and chat_req["top_logprobs"] == 5
    assert chat_req["n"] == 3 and chat_req["max_tokens"] == 9 and chat_req["temperature"] == 0.7
    assert completion_req["prompt"] == "2 + 2 =" and completion_req["logprobs"] == 5
    assert chat_req["seed"] != completion_req["seed"]  # each prompt its own seed
    for samples in out:
        assert len(samples) == 3 and samples[1].text == "sample 1 answer \\boxed{1}"
        g = samples[1]
        assert g.entropy_kind == "topk-renorm:K=5" and len(g.token_entropy) == 4
        assert len(g.top_logprobs) == 4 and all(len(t) == 5 for t in g.top_logprobs)
        assert all(lo <= EXACT_ENTROPY <= hi for lo, hi in zip(g.token_entropy_lo, g.token_entropy_hi))
    assert out[0][0].finish_reason == "length" and out[0][1].finish_reason == "stop"


def test_server_errors_are_retried_and_a_4xx_is_a_clear_error(server, monkeypatch):
    script, url = server
    script.statuses = [500, 503]
    out = backend(url).generate([Prompt("a", "x")], GenerationConfig(n=2))
    assert len(out[0]) == 2 and len(script.requests) == 3  # two failures, then the answer
    script.statuses = [429, 401]
    with pytest.raises(CrevalError, match="answered HTTP 401: scripted 401"):
        backend(url).generate([Prompt("a", "x")], GenerationConfig(n=2))
    script.statuses = [500] * 10
    with pytest.raises(CrevalError, match=r"failed after 3 tries \(HTTP 500"):
        backend(url, max_retries=2).generate([Prompt("a", "x")], GenerationConfig(n=2))


def test_the_api_key_is_sent_but_never_stored(server, monkeypatch, tmp_path):
    script, url = server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    result = creval.run("tiny", ["mini_math"], GenerationConfig(n=2, max_new_tokens=8), backend="openai",
                        backend_options={"base_url": url, "backoff": 0.01}, out=str(tmp_path))
    assert script.headers[0]["Authorization"] == "Bearer sk-test-secret-123"
    assert result.cells[0].n_samples == 44
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"sk-test-secret-123" not in path.read_bytes(), path


def test_unknown_model_or_unreachable_server(server):
    _, url = server
    with pytest.raises(CrevalError, match="does not serve model 'nope' \\(it serves: tiny\\)"):
        OpenAIBackend.resolve("nope", {"base_url": url})
    with pytest.raises(CrevalError, match="failed after 1 tries"):
        OpenAIBackend.resolve("tiny", {"base_url": "http://127.0.0.1:9/v1", "max_retries": 0})
    with pytest.raises(CrevalError, match="--base-url"):
        OpenAIBackend.resolve("tiny", {})


def test_a_server_dying_mid_run_leaves_no_partial_cell_and_the_rerun_completes(server, tmp_path):
    script, url = server
    options = {"base_url": url, "backoff": 0.01, "max_retries": 1, "max_concurrency": 2}
    script.die_after = 30  # mini_math has 22 prompts: it completes, mini_writing (20) does not
    with pytest.raises(CrevalError, match="failed after 2 tries"):
        creval.run("tiny", ["mini_math", "mini_writing"], GenerationConfig(n=2), backend="openai",
                   backend_options=options, out=str(tmp_path))
    store = Store(tmp_path)
    assert len(store.cells()) == 1 and not list(tmp_path.rglob(".*.tmp"))  # the finished cell only
    script.die_after = None
    result = creval.run("tiny", ["mini_math", "mini_writing"], GenerationConfig(n=2), backend="openai",
                        backend_options=options, out=str(tmp_path))
    assert [c.cached for c in result.cells] == [True, False] and len(store.cells()) == 2
