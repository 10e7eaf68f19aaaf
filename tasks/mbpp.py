"""MBPP (Austin et al. 2021, "Program Synthesis with Large Language Models", arXiv 2108.07732): short
Python problems with three assert tests each (``google-research-datasets/mbpp``, split ``test``).
Configs: ``full`` (500 test problems; columns ``task_id``, ``text``, ``code``, ``test_list``,
``test_setup_code``) and ``sanitized`` (257 hand-verified ones; ``prompt``, ``code``, ``test_list``,
``test_imports``); ``--tasks mbpp:subset=sanitized``.

The prompt gives the description and the tests, as the paper does ("Your code should pass these
tests"); ``mbpp`` asks in chat for a fenced block, ``mbpp:style=completion`` sends the same text as a
completion that opens a ```` ```python ```` block and stops at its end. The program is the extracted code,
the setup code or imports, then the asserts. The entry point is the function the first assert calls.
Offline: ``--tasks mbpp:data=path/to/test.jsonl``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from creval.errors import CrevalError
from creval.records import Generation, Prompt
from creval.sandbox import Job

from .code_base import CodeTask, extract_code
from .loading import load_rows, require_columns

HUB_ID = "google-research-datasets/mbpp"
TEMPLATE = "{text}\nYour code should pass these tests:\n\n{tests}\n"
_CALLED = re.compile(r"assert\s+(?:not\s+)?\(?\s*(?:set\(|math\.isclose\()?\s*([A-Za-z_]\w*)\s*\(")


@dataclass
class MBPP(CodeTask):
    name = "mbpp"
    version = "1"
    description = "MBPP (google-research-datasets/mbpp), full or sanitized, sandboxed asserts"
    data: str = ""
    subset: str = "full"
    style: str = "chat"
    limit: int = 0

    def __post_init__(self) -> None:
        if self.subset not in ("full", "sanitized"):
            raise CrevalError(f"task 'mbpp': subset must be full or sanitized, got {self.subset!r}")
        if self.style not in ("chat", "completion"):
            raise CrevalError(f"task 'mbpp': style must be chat or completion, got {self.style!r}")
        if self.style == "completion":
            self.stop = ("```",)  # type: ignore[misc]  # an instance's own stop strings

    def prompts(self) -> list[Prompt]:
        source = self.data or HUB_ID
        rows = load_rows(self.data, hub_id=HUB_ID, config=self.subset, split="test")
        text_col = "prompt" if rows and "prompt" in rows[0] else "text"
        require_columns(rows, ["task_id", text_col, "code", "test_list"], source)
        rows = rows[: self.limit] if self.limit else rows
        prompts = []
        for r in rows:
            tests = "\n".join(r["test_list"])
            setup = r.get("test_setup_code") or "\n".join(r.get("test_imports") or [])
            called = _CALLED.search(r["test_list"][0]) if r["test_list"] else None
            text = TEMPLATE.format(text=r[text_col], tests=tests)
            if self.style == "completion":
                text += "```python\n"
            prompts.append(Prompt(
                id=f"mbpp-{r['task_id']}", text=text, style=self.style,  # type: ignore[arg-type]
                reference={"solution": f"{setup}\n{r['code']}\n", "tests": f"{tests}\n", "setup": setup,
                           "entry_point": called.group(1) if called else None},
            ))
        return prompts

    def job(self, prompt: Prompt, generation: Generation) -> Job:
        ref = prompt.reference
        code = extract_code(generation.text) if self.style == "chat" else generation.text
        return Job(f"{ref['setup']}\n{code}\n", ref["tests"], entry_point=ref["entry_point"], timeout=self.timeout)
