"""Generation overhead: creval's Hugging Face backend vs calling ``transformers`` generate directly.

Same checkpoint, same prompts, same n, same batch composition, same number of generated tokens (the
benchmark checkpoint has no end-of-sequence token, so every sample runs to max_new_tokens). Three
ways, side by side in one run:

* raw:           ``model.generate(do_sample=True, num_return_sequences=n)``, no statistics;
* raw+entropy:   the same with ``output_logits=True`` and the per-token entropy computed afterwards,
                 what a user who wants entropies would write;
* creval:        ``HFBackend.generate`` (per-sample seeds, exact entropies, log-probs, finish reasons),
                 and ``creval.run`` end to end (adds model loading, fingerprint, scoring, the Parquet store).

With ``--backend vllm`` (in an environment with vLLM, e.g. ``.tox/vllm``) the same comparison for
the vLLM engine: ``LLM.generate`` directly (same prompts as token ids, same n, top-20 log-probabilities,
per-request seeds), creval's ``VLLMBackend.generate`` (adds entropy estimates with bounds and the
text decoding) and ``creval.run`` end to end (one engine load each, excluded from the first two).

Usage: python benchmarks/bench_generation.py [--backend hf|vllm] [--layers 4] [--width 256] [--n 8] [--max-new-tokens 64]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tiny.py: the tests' tiny checkpoints


def build(root: Path, layers: int, width: int) -> Path:
    from tiny import build_checkpoint

    path = build_checkpoint(root / "bench", n_layer=layers, n_embd=width, init_std=0.05)
    for name in ("config.json", "generation_config.json"):
        cfg = json.loads((path / name).read_text())
        cfg.update(eos_token_id=None, bos_token_id=None)
        (path / name).write_text(json.dumps(cfg))
    return path


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=("hf", "vllm"), default="hf")
    args = parser.parse_args()
    if args.backend == "vllm":
        return bench_vllm(args)

    import creval
    from creval.backends.hf import HFBackend
    from creval.records import GenerationConfig
    from creval.tasks.mini_writing import MiniWriting

    tmp = Path(tempfile.mkdtemp(prefix="creval-bench-"))
    ckpt = build(tmp, args.layers, args.width)
    prompts = MiniWriting().prompt_set
    config = GenerationConfig(n=args.n, max_new_tokens=args.max_new_tokens, temperature=1.0)
    backend = HFBackend.load(ckpt, {"batch_size": args.batch_size})
    backend.eos_ids = set()
    model, tok = backend.model, backend.tokenizer
    per_batch = max(1, args.batch_size // args.n)
    texts = sorted((backend.render(p)[0] for p in prompts), key=len)
    batches = [tok(texts[i : i + per_batch], return_tensors="pt", padding=True, add_special_tokens=False)
               for i in range(0, len(texts), per_batch)]

    def raw(with_entropy: bool) -> None:
        for enc in batches:
            with torch.inference_mode():
                out = model.generate(**enc, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                                     num_return_sequences=args.n, max_new_tokens=args.max_new_tokens,
                                     pad_token_id=tok.pad_token_id, output_logits=with_entropy,
                                     return_dict_in_generate=with_entropy)
                if with_entropy:
                    logp = torch.log_softmax(torch.stack(out.logits, 1).float(), -1)
                    (-(logp.exp() * logp).sum(-1)).tolist()

    counter = iter(range(10**6))
    real_load = HFBackend.load.__func__

    def load_without_eos(cls, checkpoint, options):  # the tokenizer's eos would end samples early
        engine = real_load(cls, checkpoint, options)
        engine.eos_ids = set()
        return engine

    HFBackend.load = classmethod(load_without_eos)  # type: ignore[method-assign]

    def end_to_end() -> None:
        creval.run(str(ckpt), ["mini_writing"], GenerationConfig(n=args.n, max_new_tokens=args.max_new_tokens,
                   seed=next(counter)), out=str(tmp / "results"), metrics=["token_entropy", "distinct_n"],
                   backend_options={"batch_size": args.batch_size})

    tokens = len(prompts) * args.n * args.max_new_tokens
    rows = {
        "raw generate": best_of(lambda: raw(False), args.repeats),
        "raw generate + entropy": best_of(lambda: raw(True), args.repeats),
        "creval HFBackend.generate": best_of(lambda: backend.generate(prompts, config), args.repeats),
    }
    rows["creval.run end to end"] = best_of(end_to_end, args.repeats)
    base = rows["raw generate"]
    print(f"{len(prompts)} prompts x n={args.n} x {args.max_new_tokens} tokens = {tokens} tokens; "
          f"GPT-2 {args.layers} layers x {args.width}; torch threads {torch.get_num_threads()}")
    print(f"{'':28}{'seconds':>9}{'tokens/s':>11}{'vs raw':>9}")
    for name, seconds in rows.items():
        print(f"{name:28}{seconds:9.3f}{tokens / seconds:11.0f}{seconds / base:8.2f}x")


def bench_vllm(args: argparse.Namespace) -> None:
    from vllm import SamplingParams

    import creval
    from creval.backends import sample_seed
    from creval.backends.vllm import VLLMBackend
    from creval.records import GenerationConfig
    from creval.tasks.mini_writing import MiniWriting

    tmp = Path(tempfile.mkdtemp(prefix="creval-bench-"))
    ckpt = build(tmp, args.layers, args.width)
    prompts = MiniWriting().prompt_set
    config = GenerationConfig(n=args.n, max_new_tokens=args.max_new_tokens, temperature=1.0)
    options = {"dtype": "float32", "enforce_eager": True, "max_model_len": 1024}
    backend = VLLMBackend.load(ckpt, options)
    tok = backend.tokenizer
    inputs = [{"prompt_token_ids": tok(backend_text, add_special_tokens=False)["input_ids"]}
              for backend_text in (tok.apply_chat_template([{"role": "user", "content": p.text}], tokenize=False,
                                                           add_generation_prompt=True) for p in prompts)]
    params = [SamplingParams(n=args.n, seed=sample_seed(0, p.id, 0), temperature=1.0, max_tokens=args.max_new_tokens,
                             logprobs=20, ignore_eos=True) for p in prompts]
    rows = {
        "raw LLM.generate (warm)": best_of(lambda: backend.llm.generate(inputs, params, use_tqdm=False), args.repeats),
        # creval's calls do not ignore eos; the benchmark checkpoint has none, so lengths are the same
        "creval VLLMBackend.generate (warm)": best_of(lambda: backend.generate(prompts, config), args.repeats),
    }
    backend.close()

    def raw_cold() -> None:
        from vllm import LLM

        llm = LLM(model=str(ckpt), dtype="float32", enforce_eager=True, max_model_len=1024, seed=0,
                  enable_chunked_prefill=False, logprobs_mode="processed_logprobs")
        llm.generate(inputs, params, use_tqdm=False)
        del llm
        import gc

        gc.collect()

    counter = iter(range(10**6))
    rows["raw LLM() + generate"] = best_of(raw_cold, 1)
    rows["creval.run end to end"] = best_of(lambda: creval.run(
        str(ckpt), ["mini_writing"], GenerationConfig(n=args.n, max_new_tokens=args.max_new_tokens, seed=next(counter)),
        backend="vllm", backend_options=options, out=str(tmp / "results"), metrics=["token_entropy"]), 1)
    tokens = len(prompts) * args.n * args.max_new_tokens
    base = rows["raw LLM.generate (warm)"]
    print(f"vLLM: {len(prompts)} prompts x n={args.n} x {args.max_new_tokens} tokens; GPT-2 {args.layers} x {args.width}")
    print(f"{'':36}{'seconds':>9}{'tokens/s':>11}{'vs raw':>9}")
    for name, seconds in rows.items():
        if name == "raw LLM() + generate":
            base = seconds
        print(f"{name:36}{seconds:9.3f}{tokens / seconds:11.0f}{seconds / base:8.2f}x")


if __name__ == "__main__":
    main()
