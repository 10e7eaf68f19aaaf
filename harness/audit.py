"""``creval audit-grader``: grade the same math generations with creval's grader and the alternatives
users compare against, and list every sample on which they disagree.

Graders (each returns the answer it read and a verdict):

* ``creval``: the extraction chain (boxed, ####, "the answer is", "A:", last number) + math-verify;
* ``exact``: the same extraction, then string equality after normalisation (case, spaces, commas,
  ``$``, final period), no math-verify;
* ``lm-eval-strict``: lm-evaluation-harness's gsm8k "strict-match": the first ``#### <number>``;
* ``lm-eval-flexible``: its "flexible-extract": the last number-like token in the response; both then
  compared as lm-eval's exact_match does for gsm8k (case ignored; commas, ``$``, anything up to
  ``#### `` and a final period removed);
* ``math-verify``: math-verify on the whole response with its own extraction, no creval chain.

Each sample also records which rule of creval's extraction chain read its answer (``no-answer`` when
none did); ``rule_counts`` tallies them, so a grader that lives on ``last-number`` shows it.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import CrevalError
from .records import Generation, Prompt
from .task import Task
from .validation import read_text

_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
_FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
_IGNORE = [re.compile(p) for p in (",", r"\$", r"(?s).*#### ", r"\.$")]


def _lm_eval_normalize(text: str) -> str:
    for pattern in _IGNORE:
        text = pattern.sub("", text)
    return text.lower().strip()


def _lm_eval(pattern: re.Pattern, last: bool) -> Callable[[str, str], tuple[str | None, bool]]:
    def grade(gold: str, text: str) -> tuple[str | None, bool]:
        found = pattern.findall(text)
        if not found:
            return None, False
        match = found[-1] if last else found[0]
        answer = next((g for g in match if g), "") if isinstance(match, tuple) else match
        return answer.strip(), _lm_eval_normalize(answer) == _lm_eval_normalize(gold)

    return grade


def _exact(gold: str, text: str) -> tuple[str | None, bool]:
    from creval.tasks.answers import extract_answer, normalize_text

    answer, _ = extract_answer(text)
    return answer, answer is not None and normalize_text(answer).replace(",", "") == normalize_text(gold).replace(",", "")


def _whole(gold: str, text: str) -> tuple[str | None, bool]:
    from creval.tasks.answers import verify_whole_response

    return None, verify_whole_response(gold, text)


ALTERNATIVES: dict[str, Callable[[str, str], tuple[str | None, bool]]] = {
    "exact": _exact,
    "lm-eval-strict": _lm_eval(_STRICT, last=False),
    "lm-eval-flexible": _lm_eval(_FLEXIBLE, last=True),
    "math-verify": _whole,
}


@dataclass(frozen=True)
class AuditRow:
    prompt_id: str
    sample: int
    gold: str
    verdicts: dict[str, bool]
    answers: dict[str, str | None]
    text_tail: str
    rule: str

    @property
    def disagrees(self) -> bool:
        return len(set(self.verdicts.values())) > 1


def read_generations(path: Path) -> dict[str, list[str]]:
    """prompt id -> sample texts, from JSONL ({prompt_id, text} or {prompt_id, samples}) or from a
    creval generations Parquet file or cell directory."""
    from .store import generations_file, read_table

    path = generations_file(path)
    if not path.is_file():
        raise CrevalError(f"generations file not found: {path}")
    out: dict[str, list[str]] = {}
    if path.suffix == ".parquet":
        table = read_table(path)  # a damaged file is a CrevalError naming it
        missing = {"prompt_id", "sample", "text"} - set(table.column_names)
        if missing:
            raise CrevalError(f"{path}: not a creval generations file (no column {', '.join(sorted(missing))})")
        for row in sorted(table.select(["prompt_id", "sample", "text"]).to_pylist(),
                          key=lambda r: (r["prompt_id"], r["sample"])):
            out.setdefault(row["prompt_id"], []).append(row["text"])
        return out
    for number, line in enumerate(read_text(path, "generations file").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pid = str(row["prompt_id"])
            samples = row["samples"] if "samples" in row else [row["text"]]
            texts = [s["text"] if isinstance(s, dict) else s for s in samples]
            if not all(isinstance(t, str) for t in texts):
                raise TypeError("samples must be strings or {text: ...}")
        except (ValueError, KeyError, TypeError) as exc:
            raise CrevalError(f"{path}:{number}: expected {{\"prompt_id\", \"text\"}} or {{\"prompt_id\", "
                              f"\"samples\"}} JSON ({type(exc).__name__}: {exc})") from None
        out.setdefault(pid, []).extend(texts)
    return out


def audit(task: Task, generations: dict[str, list[str]]) -> list[AuditRow]:
    if task.family != "math":
        raise CrevalError(f"audit-grader compares math graders; {task.label} is a {task.family} task")
    prompts: dict[str, Prompt] = {p.id: p for p in task.prompt_set}
    unknown = [pid for pid in generations if pid not in prompts]
    if unknown:
        raise CrevalError(f"{len(unknown)} prompt id(s) are not in task {task.label}, e.g. {unknown[:3]}")
    rows = []
    for pid, texts in generations.items():
        prompt, gold = prompts[pid], str(prompts[pid].reference)
        for j, text in enumerate(texts):
            mine = task.grade(prompt, Generation(text, (), (), None, "none", "stop"))
            verdicts, answers = {"creval": bool(mine.correct)}, {"creval": mine.answer}
            for name, grade in ALTERNATIVES.items():
                answers[name], verdicts[name] = grade(gold, text)
            rule = mine.detail.removeprefix("rule:") if mine.detail.startswith("rule:") else mine.status
            rows.append(AuditRow(pid, j, gold, verdicts, answers, text[-160:], rule))
    return rows


def summary(rows: list[AuditRow]) -> dict[str, dict[str, float]]:
    names = list(rows[0].verdicts) if rows else []
    total = max(len(rows), 1)
    return {n: {"accuracy": sum(r.verdicts[n] for r in rows) / total,
                "agreement_with_creval": sum(r.verdicts[n] == r.verdicts["creval"] for r in rows) / total}
            for n in names}


def rule_counts(rows: list[AuditRow]) -> dict[str, int]:
    """How often each extraction rule read the answer, most frequent first."""
    return dict(Counter(r.rule for r in rows).most_common())


def to_dict(rows: list[AuditRow]) -> dict:
    return {"samples": len(rows), "graders": summary(rows), "rules": rule_counts(rows),
            "disagreements": [asdict(r) for r in rows if r.disagrees]}
