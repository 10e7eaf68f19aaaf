"""NoveltyBench-style equivalence classes decided by an LLM judge (Zhang et al. 2025, "NoveltyBench:
Evaluating Language Models for Humanlike Diversity", arXiv 2504.05228, partitions a prompt's samples
with a judge of "is this a genuinely different response?"), through any OpenAI-compatible server (the
``openai`` backend's public interface: ``resolve``, ``load``, ``generate``).

Setup: the server's base URL in ``$CREVAL_JUDGE_BASE_URL`` (a URL holds ':', which a metric spec
cannot), the judge's model name as ``judge=NAME``: ``--metric judge_equivalence:judge=qwen2.5-7b``.
For every pair (i < j) of a prompt's samples the judge is asked, greedily (temperature 0, 4 tokens),
whether response B is the same as response A (``TEMPLATE``); an answer whose first word is "yes" (any
case, after spaces and punctuation) is "equivalent", one whose first word is "no" is not, and any other
(empty, cut short, "Yesterday", "maybe") leaves the pair undecided: every statistic of that prompt is
then NaN (counting it as "different" would inflate the diversity of a judge that does not follow the
template). Samples are then partitioned as ``equivalence`` does (each joins the first class whose first
member the judge calls equivalent).

Statistics per prompt: ``judge-distinct-k`` (classes), ``judge-semantic-entropy`` (-sum p ln p over
class frequencies), ``judge-effective-classes`` (classes among the samples whose quality passes
``bar``, per sample drawn: ``effective_diversity``'s definition with the judge's classes).

Every judge prompt and its verdict are kept, like generations, in a cache keyed by the judge's
identity (the backend's fingerprint: base URL, model name and the weights' path the server reports)
and by the prompt's hash: ``$CREVAL_CACHE_DIR/judge/<fingerprint>/verdicts.jsonl``, one JSON object a
line ({"key", "prompt", "reply"}); a prompt in the cache is never asked again.

``JudgeQuality`` (scorer ``judge``) is the same judge as a writing task's quality scorer: it rates
each sample 1-10, and the rating / 10 becomes the grade's ``score``.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.hashing import stable_hash
from creval.metric import CellInfo
from creval.records import Generation, GenerationConfig, Grade, Prompt

from .effective_diversity import check_bar, quality
from .equivalence import partition, semantic_entropy
from .scope import TextMetric

URL_ENV = "CREVAL_JUDGE_BASE_URL"
TEMPLATE_VERSION = "1"
TEMPLATE = """Two responses to the same request follow. Is response B essentially the same as response A, so \
that a reader who has seen A would not consider B a new, different response? Answer yes or no.

Request:
{request}

Response A:
{a}

Response B:
{b}

Answer (yes or no):"""
_JUDGE_CONFIG = GenerationConfig(n=1, temperature=0.0, max_new_tokens=4)


def verdict(reply: str) -> bool | None:
    """True for a reply whose first word is yes, False for no, None (undecided) for any other."""
    word = re.match(r"[\W_]*([a-z]+)", reply.lower())
    return {"yes": True, "no": False}.get(word.group(1)) if word else None


def is_yes(reply: str) -> bool:
    return verdict(reply) is True


class Judge:
    """Replies of an OpenAI-compatible server to judge prompts, cached on disk."""

    def __init__(self, base_url: str, model: str, concurrency: int = 8) -> None:
        from creval.backends.openai import OpenAIBackend
        from creval.checkpoints import cache_dir

        options = {"base_url": base_url, "served_model": model, "api": "chat", "top_logprobs": 0,
                   "max_concurrency": concurrency}
        try:
            source = OpenAIBackend.resolve(model, options)
            self.engine = OpenAIBackend.load(source, options)
        except CrevalError as exc:
            raise CrevalError(f"judge ${URL_ENV}={base_url}, model {model!r}: {exc}") from None
        self.path = cache_dir() / "judge" / source.fingerprint / "verdicts.jsonl"
        self.cache: dict[str, str] = {}  # prompt key -> reply
        self.asked = 0  # requests sent by this judge (replies not found in the cache)
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.cache[row["key"]] = str(row["reply"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a killed writer: asked again

    def replies(self, prompts: Sequence[str]) -> list[str]:
        """The judge's reply to each prompt; those not in the cache are asked (concurrently) and stored."""
        keys = [stable_hash({"template": TEMPLATE_VERSION, "prompt": p}) for p in prompts]
        missing = {k: p for k, p in zip(keys, prompts) if k not in self.cache}
        if missing:
            from filelock import FileLock

            answers = self.engine.generate([Prompt(k, p) for k, p in missing.items()], _JUDGE_CONFIG)
            self.asked += len(missing)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.path) + ".lock"), self.path.open("a") as out:
                for (key, prompt), answer in zip(missing.items(), answers):
                    self.cache[key] = answer[0].text
                    out.write(json.dumps({"key": key, "prompt": prompt, "reply": answer[0].text}) + "\n")
        return [self.cache[k] for k in keys]


def judge_for(base_url: str, model: str, concurrency: int = 8) -> Judge:
    """One judge per (server, model) in a process."""
    key = (base_url, model)
    if key not in _judges:
        _judges[key] = Judge(base_url, model, concurrency)
    return _judges[key]


_judges: dict[tuple[str, str], Judge] = {}


@dataclass
class JudgeEquivalence(TextMetric):
    name = "judge_equivalence"
    version = "2"  # 2: a reply neither yes nor no makes the prompt NaN (1: it counted as "different")
    description = "NoveltyBench-style classes of samples by an LLM judge (OpenAI-compatible server): distinct-k, entropy"
    judge: str = ""
    bar: float = 0.5
    concurrency: int = 8

    def unavailable(self) -> str | None:
        if not self.judge:
            return "name the judge's model, e.g. judge_equivalence:judge=NAME"
        if not os.environ.get(URL_ENV):
            return f"set ${URL_ENV} to the judge server's base URL, e.g. http://127.0.0.1:8000/v1"
        return None

    def prepare(self, config: GenerationConfig) -> None:
        """Asked for by name, a judge that is not set up is an error before anything runs."""
        reason = self.unavailable()
        if reason:
            raise CrevalError(f"metric 'judge_equivalence': {reason}")

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["judge-distinct-k", "judge-semantic-entropy", "judge-effective-classes"]

    def fields(self, cell: CellInfo) -> dict[str, str]:
        return {"eq": f"judge:{self.judge}", "tmpl": TEMPLATE_VERSION, "q": "grade", "bar": str(self.bar),
                "scope": self.scope}

    def _judge(self) -> Judge:
        self.prepare(GenerationConfig())
        return judge_for(os.environ[URL_ENV], self.judge, self.concurrency)

    def begin_cell(self, cell: CellInfo, items: Sequence[tuple[Prompt, Sequence[Generation], Sequence[Grade]]]) -> None:
        """Ask every pair of every prompt at once (concurrent requests), so ``score`` reads the cache."""
        check_bar(self.name, self.bar, cell.family)
        pairs = [p for prompt, gens, grades in items for p in self._pairs(prompt, self.texts(gens, grades))]
        self._judge().replies(pairs)

    @staticmethod
    def _pairs(prompt: Prompt, texts: Sequence[str]) -> list[str]:
        return [TEMPLATE.format(request=prompt.text, a=texts[i], b=texts[j])
                for i in range(len(texts)) for j in range(i + 1, len(texts))]

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        verdicts = [verdict(r) for r in self._judge().replies(self._pairs(prompt, texts))]
        if None in verdicts:  # some pair undecided: the partition is unknown
            return dict.fromkeys(self.statistics(GenerationConfig()), float("nan"))
        decided = iter(v is True for v in verdicts)
        same = {(i, j): next(decided) for i in range(len(texts)) for j in range(i + 1, len(texts))}
        labels = partition(len(texts), lambda i, j: same[(i, j)])
        kept = [i for i, g in enumerate(grades) if quality(g) >= self.bar]
        scored = any(quality(g) == quality(g) for g in grades)  # some sample has a quality (not NaN)
        among = partition(len(kept), lambda a, b: same[(kept[a], kept[b])])
        effective = len(set(among)) / len(texts) if scored and texts else float("nan")
        return {"judge-distinct-k": float(len(set(labels))), "judge-semantic-entropy": semantic_entropy(labels),
                "judge-effective-classes": effective}



QUALITY_TEMPLATE = """Rate the quality of the response to the request below on a scale from 1 (worst) to 10 \
(best). Answer with the number only.

Request:
{request}

Response:
{response}

Rating (1-10):"""
MODEL_ENV = "CREVAL_JUDGE_MODEL"


def rating(reply: str) -> float:
    """The first whole number 1-10 in the reply, divided by 10; NaN when there is none."""
    found = re.search(r"\b(10|[1-9])\b", reply)
    return int(found.group(1)) / 10 if found else float("nan")


class JudgeQuality:
    """A writing-quality scorer (``creval.scorers`` entry point ``judge``: ``my_task:scorer=judge``):
    the LLM judge at ``$CREVAL_JUDGE_BASE_URL``, model ``$CREVAL_JUDGE_MODEL``, rates each sample 1-10
    greedily (``QUALITY_TEMPLATE``); the score is the rating / 10 (NaN without a number in the reply),
    cached with the equivalence verdicts. Its value becomes the grade's ``score``, the quality that
    ``effective_diversity`` and ``judge_equivalence`` hold against their ``bar``."""

    name = "judge"

    def __init__(self) -> None:
        missing = [v for v in (URL_ENV, MODEL_ENV) if not os.environ.get(v)]
        if missing:
            raise CrevalError(f"scorer 'judge': set {' and '.join('$' + v for v in missing)} (the judge server's base "
                              "URL and model name)")
        self.id = f"{os.environ[MODEL_ENV]}:tmpl{TEMPLATE_VERSION}"  # in the task's grader id, so in its hash

    def score(self, prompt: Prompt, generation: Generation) -> float:
        judge = judge_for(os.environ[URL_ENV], os.environ[MODEL_ENV])  # the server is asked only when grading
        return rating(judge.replies([QUALITY_TEMPLATE.format(request=prompt.text, response=generation.text)])[0])
