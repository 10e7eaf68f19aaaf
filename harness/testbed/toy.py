"""The testbed's toy tasks: tiny structured and creative problems a 2-layer policy can learn on a CPU.

* math: ``add 3 4 =`` -> ``7`` (single digits; one right answer);
* code: ``fn 2>5 3>7 =`` -> an expression in x (``2*x+1``) that maps every shown input to its output
  and a hidden third one; rewarded by a small interpreter of + - * over integers and x during
  training (no code runs), graded in the sandbox when creval evaluates it;
* creative: ``word b-a =`` -> an invented word of 3-8 lowercase letters starting with b and ending
  with a (10 letters x 5 vowels: 50 distinct prompts); reward = validity x (0.5 + 0.5 x novelty),
  novelty = the share of the word's letter trigrams that no other sample of its group produced, so the
  reward bites even when every sample differs; or (``novelty=False``, a control) validity alone.

Each family is also a creval task (``toy_math``, ``toy_code``, ``toy_creative``) with a fixed, seeded
evaluation set, so trajectories are evaluated by the normal harness. Prompts end with the space the
policies were trained to continue after (the answer is tokenized apart from the prompt).
"""
from __future__ import annotations

import ast
import random
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from creval.records import Generation, Grade, Prompt
from creval.sandbox import Job
from creval.task import Task
from creval.tasks.code_base import CodeTask
from creval.tasks.writing_base import WritingTask

SYLLABLES = ("ba", "ko", "ri", "mu", "te", "la", "zo", "ni")
LETTERS = "bdfklmprst"
VOWELS = "aeiou"
_WORD = re.compile(r"^[a-z]{3,8}$")


def math_item(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randrange(10), rng.randrange(10)
    return f"add {a} {b} =", str(a + b)


def code_item(rng: random.Random) -> tuple[str, str, tuple[int, int]]:
    a, b = rng.randrange(1, 4), rng.randrange(0, 6)
    xs = rng.sample(range(1, 6), 3)
    shown = " ".join(f"{x}>{a * x + b}" for x in xs[:2])
    return f"fn {shown} =", f"{a}*x+{b}", (xs[2], a * xs[2] + b)


def creative_item(rng: random.Random) -> tuple[str, str]:
    letter, vowel = rng.choice(LETTERS), rng.choice(VOWELS)
    middle = "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(0, 2)))
    last = rng.choice([s for s in SYLLABLES if s.endswith(vowel)])
    return f"word {letter}-{vowel} =", letter + middle + last


def creative_valid(prompt: str, word: str) -> bool:
    """``word`` is 3-8 lowercase letters with the first and last letters the prompt (``word b-a =``) asks for."""
    first, last = prompt.split()[1].split("-")
    return bool(_WORD.match(word)) and word.startswith(first) and word.endswith(last)


def evaluate_expression(expr: str, x: int) -> int | None:
    """The value of an expression of integers, x, +, - and * (nothing else is evaluated), or None."""
    try:
        with warnings.catch_warnings():  # a sample such as "2*x+1if" is not code: no SyntaxWarning for it
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and abs(node.value) < 1000:
            return node.value
        if isinstance(node, ast.Name) and node.id == "x":
            return x
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = value(node.left), value(node.right)
            result = left + right if isinstance(node.op, ast.Add) else left - right if isinstance(node.op, ast.Sub) else left * right
            if abs(result) > 10**6:
                raise ValueError("too large")
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        raise ValueError("not allowed")

    try:
        return value(tree)
    except (ValueError, RecursionError):
        return None


def pairs_of(prompt: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in re.findall(r"(\d+)>(\d+)", prompt)]


def math_reward(prompt: str, answer: str) -> float:
    a, b = (int(t) for t in prompt.split()[1:3])
    return float(answer.strip() == str(a + b))


def code_reward(prompt: str, answer: str, hidden: tuple[int, int] | None = None) -> float:
    checks = pairs_of(prompt) + ([hidden] if hidden else [])
    return float(all(evaluate_expression(answer, x) == y for x, y in checks))


def trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def creative_rewards(prompt: str, answers: Sequence[str], novelty_bonus: bool = True) -> list[float]:
    grams = [trigrams(a.strip()) for a in answers]
    out = []
    for i, a in enumerate(answers):
        if not creative_valid(prompt, a.strip()):
            out.append(0.0)
            continue
        if not novelty_bonus:
            out.append(1.0)
            continue
        others = set().union(*(g for j, g in enumerate(grams) if j != i)) if len(grams) > 1 else set()
        novelty = len(grams[i] - others) / len(grams[i]) if grams[i] else 0.0
        out.append(0.5 + 0.5 * novelty)
    return out


CREATIVE_EVAL = 50  # every letter-vowel pair once


def eval_items(family: str, count: int | None = None, seed: int = 1234) -> list[tuple[Any, ...]]:
    """The family's fixed evaluation items: ``count`` distinct prompts (default 30; creative: all 50)."""
    count = count or (CREATIVE_EVAL if family == "creative" else 30)
    rng = random.Random(f"{family}-{seed}")
    make: Callable[[random.Random], tuple[Any, ...]] = {"math": math_item, "code": code_item,
                                                         "creative": creative_item}[family]
    seen: set[str] = set()
    items: list[tuple[Any, ...]] = []
    while len(items) < count:
        item = make(rng)
        if item[0] not in seen:
            seen.add(item[0])
            items.append(item)
    return items


@dataclass
class ToyMath(Task):
    name = "toy_math"
    version = "1"
    family = "math"
    description = "testbed: single-digit addition, exact answer (completion prompt)"
    stop = ("\n",)

    def prompts(self) -> list[Prompt]:
        return [Prompt(f"toy-math-{i:02d}", f"{p} ", reference=a, style="completion") for i, (p, a) in enumerate(eval_items("math"))]

    def grader_id(self) -> str:
        return "exact/1"

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        answer = generation.text.strip()
        return Grade(correct=answer == prompt.reference, answer=answer)


@dataclass
class ToyCode(CodeTask):
    name = "toy_code"
    version = "1"
    description = "testbed: an expression in x matching input/output pairs, graded in the sandbox"
    stop = ("\n",)

    def prompts(self) -> list[Prompt]:
        out = []
        for i, (p, a, hidden) in enumerate(eval_items("code")):
            checks = pairs_of(p) + [hidden]
            tests = "".join(f"assert f({x}) == {y}\n" for x, y in checks)
            out.append(Prompt(f"toy-code-{i:02d}", f"{p} ", style="completion",
                              reference={"solution": f"def f(x):\n    return {a}\n", "tests": tests, "entry_point": "f"}))
        return out

    def job(self, prompt: Prompt, generation: Generation) -> Job:
        expr = generation.text.strip().splitlines()[0] if generation.text.strip() else "None"
        return Job(f"def f(x):\n    return ({expr})\n", prompt.reference["tests"], entry_point="f", timeout=self.timeout)


@dataclass
class ToyCreative(WritingTask):
    name = "toy_creative"
    version = "2"
    description = "testbed: invent a word with a given first letter and last vowel (no correctness grade; validity as score)"
    stop = ("\n",)

    def prompts(self) -> list[Prompt]:
        return [Prompt(f"toy-word-{i:02d}", f"{p} ", style="completion") for i, (p, _) in enumerate(eval_items("creative"))]

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        word = generation.text.strip()
        return Grade(correct=None, status="ungraded", answer=word, score=float(creative_valid(prompt.text, word)))
