"""Code-grading regression corpus: in every answer style a task accepts, the reference solutions pass
and stubs (a ``return None`` or ``pass`` body) fail. HumanEval's is in test_task_suites.py."""
import ast
import json
import warnings

from conftest import SHARED

from creval.records import Generation
from creval.runner import load_task
from creval.tasks.mini_code import MiniCode

MBPP_FILE = SHARED / "mbpp" / "sanitized-mbpp.json"
# The hub's sanitized test split is task ids 11-510 of the repository file. mbpp-123's reference
# (amicable numbers to 9999 by trial division) needs 5-13 s on a loaded core: over the 5 s timeout.
SLOW_REFERENCE = {"mbpp-123"}


def gen(text):
    return Generation(text, (), (), None, "exact", "stop")


def stub(code: str, entry_point: str, body: str) -> str:
    """``code`` with the body of function ``entry_point`` replaced by ``body``."""
    lines = code.splitlines(keepends=True)
    with warnings.catch_warnings():  # some MBPP references have invalid escapes ("\w") in plain strings
        warnings.simplefilter("ignore")
        tree = ast.parse(code)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point)
    first = fn.body[0]
    if first.lineno == fn.lineno:  # def f(x): return x
        head = [lines[fn.lineno - 1][:first.col_offset].rstrip() + "\n"]
    else:
        head = lines[fn.lineno - 1:first.lineno - 1]
    return "".join(lines[:fn.lineno - 1] + head + [" " * (fn.col_offset + 4) + body + "\n"] + lines[fn.end_lineno:])


def test_stub_replaces_only_the_entry_point_body():
    assert stub("import math\ndef f(x):\n    y = x\n    return y\ndef g():\n    pass\n", "f", "return None") == \
        "import math\ndef f(x):\n    return None\ndef g():\n    pass\n"
    assert stub("def f(x): return x\n", "f", "pass") == "def f(x):\n    pass\n"


def passing(task, items):
    grades = task.grade_batch(items)
    return sum(g.correct is True for g in grades)


def test_mbpp_sanitized_test_split_references_pass_in_every_style_and_stubs_fail():
    rows = {f"mbpp-{r['task_id']}": r for r in json.loads(MBPP_FILE.read_text()) if 11 <= r["task_id"] <= 510}
    chat = load_task(f"mbpp:data={MBPP_FILE}:subset=sanitized")
    prompts = [p for p in chat.prompt_set if p.id in rows and p.id not in SLOW_REFERENCE]
    assert len(rows) == 257 and len(prompts) == 256
    code = {p.id: rows[p.id]["code"] for p in prompts}
    fenced = [(p, gen(f"Here you go:\n```python\n{code[p.id]}\n```\nIt works.")) for p in prompts]
    bare = [(p, gen(code[p.id])) for p in prompts]
    stubs = [(p, gen(f"```python\n{stub(code[p.id], p.reference['entry_point'], body)}```"))
             for body in ("return None", "pass") for p in prompts]
    assert passing(chat, fenced) == passing(chat, bare) == 256
    assert passing(chat, stubs) == 0
    completion = load_task(f"mbpp:data={MBPP_FILE}:subset=sanitized:style=completion")
    by_id = {p.id: p for p in completion.prompt_set}
    assert passing(completion, [(by_id[p.id], gen(code[p.id] + "\n")) for p in prompts]) == 256


def test_mini_code_references_pass_fenced_and_bare_and_stubs_fail():
    task = MiniCode()
    prompts = task.prompt_set
    refs = [p.reference["solution"] for p in prompts]
    fenced = [(p, gen(f"```python\n{r}```")) for p, r in zip(prompts, refs)]
    bare = [(p, gen(r)) for p, r in zip(prompts, refs)]
    stubs = [(p, gen(f"```python\n{stub(r, p.reference['entry_point'], body)}```"))
             for body in ("return None", "pass") for p, r in zip(prompts, refs)]
    assert passing(task, fenced) == passing(task, bare) == len(prompts) == 16
    assert passing(task, stubs) == 0
