"""Syntactic diversity of code from Python abstract syntax trees (after Shypula et al. 2025,
"Evaluating the Diversity and Quality of LLM Generated Content", which measures code diversity on
syntax trees rather than on text), with the standard library's ``ast``:

* ``ast-distinct-N``: distinct-N over the sequences of node types (depth-first, pre-order), pooled
  over the prompt's samples: identifiers, constants and formatting do not count, structure does;
* ``ast-distinct-subtrees``: unique / total subtrees of at least ``min_nodes`` nodes, a subtree
  identified by its shape (node types, recursively);
* ``ast-unparsable``: the share of samples whose code does not parse; they are counted here and left
  out of the two statistics above, never dropped silently. No parsable sample gives NaN for those.

The code is the last fenced block of the response (or the whole response); for completion-style
prompts (HumanEval) it is the prompt followed by the completion, which is the program that runs.
"""
from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from .distinct_n import distinct_counts
from .scope import TextMetric


def node_types(tree: ast.AST) -> list[str]:
    out: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(type(node).__name__)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def subtree_shapes(tree: ast.AST, min_nodes: int) -> list[int]:
    """Hashes of the shapes of every subtree with at least ``min_nodes`` nodes."""
    shapes: list[int] = []

    def visit(node: ast.AST) -> tuple[int, int]:
        children = [visit(child) for child in ast.iter_child_nodes(node)]
        shape = hash((type(node).__name__, tuple(h for h, _ in children)))
        size = 1 + sum(s for _, s in children)
        if size >= min_nodes:
            shapes.append(shape)
        return shape, size

    visit(tree)
    return shapes


def parse_code(prompt: Prompt, text: str) -> ast.AST | None:
    from creval.tasks.code_base import extract_code

    source = prompt.text + text if prompt.style == "completion" else extract_code(text)
    try:
        with warnings.catch_warnings():  # model output such as "1if" warns while parsing: not creval's code
            warnings.simplefilter("ignore", SyntaxWarning)
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None


@dataclass
class AstDiversity(TextMetric):
    name = "ast_diversity"
    families = ("code",)
    description = "distinct AST node-type n-grams and subtree shapes over a prompt's code samples"
    n: tuple[int, ...] = (2, 4)
    min_nodes: int = 3

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [*(f"ast-distinct-{n}" for n in self.n), "ast-distinct-subtrees", "ast-unparsable"]

    def text_fields(self) -> dict[str, str]:
        return {"order": "preorder", "min_nodes": str(self.min_nodes)}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        texts = self.texts(generations, grades)
        trees = [parse_code(prompt, t) for t in texts]
        parsed = [t for t in trees if t is not None]
        out = {"ast-unparsable": (len(trees) - len(parsed)) / len(trees) if trees else float("nan")}
        sequences = [" ".join(node_types(t)) for t in parsed]
        for n in self.n:
            unique, total, _ = distinct_counts(sequences, n)
            out[f"ast-distinct-{n}"] = unique / total if total else float("nan")
        shapes = [s for t in parsed for s in subtree_shapes(t, self.min_nodes)]
        out["ast-distinct-subtrees"] = len(set(shapes)) / len(shapes) if shapes else float("nan")
        return out
