"""HumanEval (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", arXiv 2107.03374):
164 hand-written Python problems (``openai/openai_humaneval``, split ``test``; columns ``task_id``,
``prompt``, ``canonical_solution``, ``test``, ``entry_point``). A program is the solution followed by
the problem's ``test`` code and ``check(<entry_point>)``, run in the sandbox.

Prompt styles:
* ``humaneval``: completion, as the paper: the model continues the signature and docstring; generation
  stops at the next top-level ``class``/``def``/``#``/``if``/``print`` (the paper's stop sequences);
  the solution is prompt + completion.
* ``humaneval_instruct``: chat: asks for the whole function in a fenced block; the solution is the
  extracted code (fenced or bare) after the prompt's preamble: every top-level statement of the prompt
  but the entry point itself (imports, helper functions such as /38's ``encode_cyclic``, constants),
  found with ``ast`` so that an indented ``import`` or docstring prose starting with "from" is never
  taken for one; a helper the model redefines is simply redefined. When the code does not define the
  entry point (the model wrote only the body), the solution is prompt + code.
Offline: ``--tasks humaneval:data=path/to/HumanEval.jsonl.gz`` (the original file works as is).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import ClassVar

from creval.errors import CrevalError
from creval.records import Generation, Prompt
from creval.sandbox import Job

from .code_base import CodeTask, extract_code
from .loading import load_rows, require_columns

HUB_ID = "openai/openai_humaneval"
INSTRUCT = ("Complete the following Python function. Reply with the complete function, including the "
            "signature, in one ```python code block.\n\n```python\n{prompt}```")


def preamble_of(prompt: str, entry_point: str) -> str:
    """The prompt's top-level statements other than the entry point's definition, in order."""
    lines = prompt.splitlines(keepends=True)
    kept = []
    for node in ast.parse(prompt).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        kept.append("".join(lines[start - 1:node.end_lineno]).rstrip("\n") + "\n")
    return "".join(kept)


@dataclass
class HumanEval(CodeTask):
    name = "humaneval"
    version = "1"
    description = "HumanEval (openai/openai_humaneval), completion prompt, sandboxed tests"
    stop: ClassVar[tuple[str, ...]] = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
    data: str = ""
    limit: int = 0

    def rows(self) -> list[dict]:
        rows = load_rows(self.data, hub_id=HUB_ID, split="test")
        require_columns(rows, ["task_id", "prompt", "canonical_solution", "test", "entry_point"], self.data or HUB_ID)
        return rows[: self.limit] if self.limit else rows

    def reference(self, row: dict) -> dict:
        return {"solution": row["prompt"] + row["canonical_solution"], "entry_point": row["entry_point"],
                "tests": f"{row['test']}\n\ncheck({row['entry_point']})\n", "prompt": row["prompt"]}

    def prompts(self) -> list[Prompt]:
        return [Prompt(id=r["task_id"], text=r["prompt"], style="completion", reference=self.reference(r))
                for r in self.rows()]

    def solution(self, prompt: Prompt, generation: Generation) -> str:
        return prompt.reference["prompt"] + generation.text

    def job(self, prompt: Prompt, generation: Generation) -> Job:
        ref = prompt.reference
        return Job(self.solution(prompt, generation), ref["tests"], entry_point=ref["entry_point"], timeout=self.timeout)


@dataclass
class HumanEvalInstruct(HumanEval):
    name = "humaneval_instruct"
    version = "2"  # 2: the prompt's preamble is found with ast (was: a regex over every line)
    description = "HumanEval, chat prompt asking for the whole function in a fenced block"
    stop = ()

    def prompts(self) -> list[Prompt]:
        return [Prompt(id=r["task_id"], text=INSTRUCT.format(prompt=r["prompt"]),
                       reference={**self.reference(r), "preamble": self._preamble(r)}) for r in self.rows()]

    def _preamble(self, row: dict) -> str:
        """Computed once at load, so that a prompt that is not Python fails there, naming the problem."""
        try:
            return preamble_of(row["prompt"], row["entry_point"])
        except SyntaxError as exc:
            raise CrevalError(f"{self.data or HUB_ID}: {row['task_id']}: the prompt is not valid Python ({exc.msg}, "
                              f"line {exc.lineno}), so its imports and helpers cannot be found") from None

    def solution(self, prompt: Prompt, generation: Generation) -> str:
        code, ref = extract_code(generation.text), prompt.reference
        if re.search(rf"^\s*def\s+{re.escape(ref['entry_point'])}\s*\(", code, re.M):
            return ref["preamble"] + code
        return ref["prompt"] + code

    def grader_id(self) -> str:
        return f"{super().grader_id()}/preamble=ast"
