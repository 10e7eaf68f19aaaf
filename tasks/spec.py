"""User-defined tasks without Python: a small YAML or JSON file that ``creval run --tasks FILE`` takes.

```yaml
name: my_arith                 # required: letters, digits, _ and -
version: "1"                   # bump when prompts or grading change meaning
family: math                   # math | code | writing
dataset: data/test.jsonl       # a local file or directory, or a hub id
config: main                   # optional hub config
split: test
prompt: "Solve: {question}\nEnd with \\boxed{}."   # {column} is replaced; other braces stay as written
style: chat                    # chat | completion
answer_field: answer           # math / exact: the gold answer column
answer_regex: "####\\s*(.+)"   # optional: take group 1 of this regex in the gold column
grader: math                   # math | exact | code | none (default: by family)
```

Code tasks name ``tests_field`` (a list of assert statements, or a test program) and optionally
``entry_point_field`` and ``solution_field`` (for the return-type check). Every error names the file,
the field and what was expected (``my_task.yaml: family: expected one of 'math', 'code' or 'writing',
got 'maths'``).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from creval.errors import CrevalError
from creval.records import Family, Generation, Grade, Prompt
from creval.sandbox import Job
from creval.task import Task
from creval.validation import Strict, parse, read_yaml

from .answers import MATH_GRADER, answers_match, extract_answer, extract_text_answer, normalize_text
from .code_base import CodeTask, extract_code
from .loading import load_rows


class TaskSpecFile(Strict):
    """The fields of a task file, each of exactly its type."""

    name: str
    version: str | None = None
    family: Family
    description: str | None = None
    dataset: str
    config: str | None = None
    split: str | None = None
    prompt: str
    style: Literal["chat", "completion"] | None = None
    system: str | None = None
    id_field: str | None = None
    answer_field: str | None = None
    answer_regex: str | None = None
    grader: Literal["math", "exact", "code", "none"] | None = None
    tests_field: str | None = None
    entry_point_field: str | None = None
    solution_field: str | None = None
    stop: list[str] | None = None
    limit: int | None = Field(None, ge=0)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:  # `version: 2` and `version: 1.1` are fine, as strings
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError(f"expected letters, digits, _ or -, got {value!r}")
        return value

    @field_validator("answer_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


DEFAULT_GRADER = {"math": "math", "code": "code", "writing": "none"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def is_spec_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml", ".json"))


def read_spec(path: Path) -> dict[str, Any]:
    """The task file's fields that are set (a plain dict), checked; the grader defaults by family."""
    raw = read_yaml(path, "task spec")  # JSON is YAML
    if not isinstance(raw, dict):
        raise CrevalError(f"{path}: expected a mapping of fields (name, family, dataset, prompt, ...)")
    spec = parse(TaskSpecFile, raw, path).model_dump(exclude_none=True)
    grader = spec.setdefault("grader", DEFAULT_GRADER[spec["family"]])
    needs = {"math": "answer_field", "exact": "answer_field", "code": "tests_field"}.get(grader)
    if needs and needs not in spec:
        raise CrevalError(f"{path}: grader {grader!r} needs field {needs!r}")
    return spec


class SpecTask(Task):
    """A task defined by a spec file; graded by the grader it names."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.spec = read_spec(self.path)
        self.name = self.spec["name"]  # type: ignore[misc]
        self.version = str(self.spec.get("version", "1"))  # type: ignore[misc]
        self.family = self.spec["family"]  # type: ignore[misc]
        self.description = self.spec.get("description", f"user task from {path}")  # type: ignore[misc]
        self.stop = tuple(self.spec.get("stop", ()))  # type: ignore[misc]
        self.code = _SpecCode(self) if self.spec["grader"] == "code" else None

    @property
    def label(self) -> str:
        return self.name

    def grader_id(self) -> str:
        own = MATH_GRADER if self.spec["grader"] == "math" else self.code.grader_id() if self.code else ""
        return f"spec:{self.spec['grader']}:{self.spec.get('answer_regex', '')}" + (f":{own}" if own else "")

    def _field(self, row: dict[str, Any], key: str, index: int) -> Any:
        column = self.spec[key]
        if column not in row:
            raise CrevalError(f"{self.path}: field {key!r}: column {column!r} is not in the dataset "
                              f"(columns: {', '.join(sorted(row))})")
        return row[column]

    def _render(self, row: dict[str, Any]) -> str:
        def value(match: re.Match) -> str:
            if match.group(1) not in row:
                raise CrevalError(f"{self.path}: field 'prompt': placeholder {{{match.group(1)}}} is not a column "
                                  f"of the dataset (columns: {', '.join(sorted(row))})")
            return str(row[match.group(1)])

        return _PLACEHOLDER.sub(value, self.spec["prompt"])

    def _gold(self, row: dict[str, Any], index: int) -> str:
        gold = str(self._field(row, "answer_field", index))
        if "answer_regex" in self.spec:
            found = re.search(self.spec["answer_regex"], gold, re.S)
            if not found:
                raise CrevalError(f"{self.path}: field 'answer_regex' does not match row {index}'s answer {gold[:60]!r}")
            gold = found.group(1) if found.groups() else found.group(0)
        return gold.strip().replace(",", "") if self.spec["grader"] == "math" else gold.strip()

    def _reference(self, row: dict[str, Any], index: int) -> Any:
        grader = self.spec["grader"]
        if grader in ("math", "exact"):
            return self._gold(row, index)
        if grader == "code":
            tests = self._field(row, "tests_field", index)
            tests = "".join(f"{t}\n" for t in tests) if isinstance(tests, list) else str(tests)
            ref = {"tests": tests, "entry_point": row.get(self.spec.get("entry_point_field", ""))}
            if "solution_field" in self.spec:
                ref["solution"] = str(self._field(row, "solution_field", index))
            return ref
        return None

    def prompts(self) -> list[Prompt]:
        rows = load_rows(self.spec["dataset"], hub_id=self.spec["dataset"], config=self.spec.get("config"),
                         split=self.spec.get("split", "test"))
        rows = rows[: self.spec["limit"]] if self.spec.get("limit") else rows
        id_field = self.spec.get("id_field")
        return [
            Prompt(id=str(self._field(r, "id_field", i)) if id_field else f"{self.name}-{i:05d}", text=self._render(r),
                   style=self.spec.get("style", "chat"), system=self.spec.get("system"), reference=self._reference(r, i))
            for i, r in enumerate(rows)
        ]

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        grader = self.spec["grader"]
        if grader == "math":
            answer, rule = extract_answer(generation.text)
            if answer is None:
                return Grade(False, None, "no-answer", "no answer found")
            return Grade(answers_match(prompt.reference, answer), answer, detail=f"rule:{rule}")
        if grader == "exact":
            answer, rule = extract_text_answer(generation.text)
            return Grade(normalize_text(answer) == normalize_text(prompt.reference), answer, detail=f"rule:{rule}")
        if grader == "code":
            assert self.code is not None
            return self.code.grade(prompt, generation)
        return Grade(None, status="ungraded")

    def grade_batch(self, items: list[tuple[Prompt, Generation]]) -> list[Grade]:  # type: ignore[override]
        return self.code.grade_batch(items) if self.code else super().grade_batch(items)


class _SpecCode(CodeTask):
    """The code grader of a spec task: extracted code, then the row's tests."""

    def __init__(self, owner: SpecTask) -> None:
        self.owner = owner

    def job(self, prompt: Prompt, generation: Generation) -> Job:
        code = extract_code(generation.text)
        return Job(code, prompt.reference["tests"], entry_point=prompt.reference.get("entry_point"), timeout=self.timeout)
