"""lm-evaluation-harness tasks as creval tasks: ``--tasks lm_eval:gsm8k`` (any ``generate_until``
task lm-eval knows, or one from ``include_path=DIR``), with ``pip install 'creval[lm-eval]'``.

lm-eval supplies everything task-specific: the documents (``eval_docs``), the prompt
(``fewshot_context`` with the task's own few-shot setting, or ``num_fewshot=``), the stop sequences
(``generation_kwargs.until``) and the grade: each sample goes through the task's own filter pipeline
(``filter=`` one of its filters; default its first) and its own ``process_results``, and the sample is
correct when the chosen metric (``metric=``; default the first) is 1. creval generates k samples per
prompt in one request and adds its diversity and entropy metrics. The task's lm-eval version and a hash
of its full config are part of the creval task hash. Options: ``include_path``, ``limit``,
``num_fewshot``, ``filter``, ``metric``, ``family`` (math | code | writing; default math).
Code tasks in HumanEval's shape (documents with ``prompt``, ``test``, ``entry_point``) or MBPP's
(``test_list``) are graded by creval's own sandbox instead (``grader=creval``, the default for them):
lm-eval grades them with ``evaluate.load("code_eval")``, which needs the hub and runs generated code
without isolation. ``grader=lm-eval`` keeps lm-eval's.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, cast, get_args

from creval.errors import CrevalError
from creval.hashing import stable_hash
from creval.records import Family, Generation, Grade, Prompt
from creval.task import Task

PARAMS = ("include_path", "limit", "num_fewshot", "filter", "metric", "family", "grader")


class LMEvalTask(Task):
    def __init__(self, task_name: str, **params: str) -> None:
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise CrevalError(f"task 'lm_eval:{task_name}': unknown parameters {sorted(unknown)}; known: {', '.join(PARAMS)}")
        self.task_name = task_name
        self.params = params
        self.name = f"lm_eval:{task_name}"  # type: ignore[misc]
        self.native = params.get("grader", "creval" if self._code_shape() else "lm-eval") == "creval" and self._code_shape()
        family = params.get("family", "code" if self.native else "math")
        if family not in get_args(Family):
            raise CrevalError(f"task {self.name}: family must be math, code or writing, got {family!r}")
        self.family = cast(Family, family)  # type: ignore[misc]
        self.version = str(self.lm_task.VERSION if getattr(self.lm_task, "VERSION", None) is not None else "0")  # type: ignore[misc]
        self.stop = tuple((self.lm_task.config.generation_kwargs or {}).get("until") or ())  # type: ignore[misc]

    @property
    def label(self) -> str:
        extra = "".join(f":{k}={v}" for k, v in sorted(self.params.items()))
        return self.name + extra

    @cached_property
    def lm_task(self) -> Any:
        try:
            from lm_eval.tasks import TaskManager, get_task_dict
        except ImportError:
            raise CrevalError("lm-eval tasks need lm-evaluation-harness: pip install 'creval[lm-eval]'") from None
        manager = TaskManager(include_path=self.params.get("include_path"))
        if self.task_name not in manager.all_tasks:
            raise CrevalError(f"lm-eval knows no task {self.task_name!r} (add include_path=DIR for your own YAML tasks)")
        try:
            task = get_task_dict([self.task_name], manager)[self.task_name]
        except Exception as exc:  # a hub dataset offline, a broken YAML ...
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise CrevalError(f"lm-eval could not load task {self.task_name!r}: {first}") from None
        if getattr(task, "OUTPUT_TYPE", task.config.output_type) != "generate_until":
            raise CrevalError(f"lm-eval task {self.task_name!r} is {task.config.output_type}; creval takes generate_until tasks")
        return task

    def _code_shape(self) -> str | None:
        doc = self.docs[0] if self.docs else {}
        if {"prompt", "test", "entry_point"} <= set(doc):
            return "humaneval"
        if "test_list" in doc:
            return "mbpp"
        return None

    @cached_property
    def docs(self) -> list[dict]:
        docs = list(self.lm_task.eval_docs)
        return docs[: int(self.params["limit"])] if self.params.get("limit") else docs

    def grader_id(self) -> str:
        from importlib.metadata import version

        config = self.lm_task.dump_config() if hasattr(self.lm_task, "dump_config") else str(self.lm_task.config)
        if self.native:
            from creval.sandbox import isolation_level

            return f"creval-sandbox/{isolation_level()}/{stable_hash(config)}"
        return f"lm-eval/{version('lm_eval')}/{stable_hash(config)}/{self.params.get('filter', '')}/{self.params.get('metric', '')}"

    def prompts(self) -> list[Prompt]:
        shots = self.params.get("num_fewshot")
        k = int(shots) if shots is not None else int(self.lm_task.config.num_fewshot or 0)
        return [Prompt(f"{self.task_name}-{i:05d}", str(self.lm_task.fewshot_context(doc, k)), style="completion",
                       reference={"doc": i, "target": str(self.lm_task.doc_to_target(doc))})
                for i, doc in enumerate(self.docs)]

    def grade(self, prompt: Prompt, generation: Generation) -> Grade:
        if self.native:
            return self._grade_in_sandbox(prompt, generation)
        from lm_eval.api.instance import Instance

        doc = self.docs[prompt.reference["doc"]]
        inst = Instance(request_type="generate_until", doc=doc, arguments=(prompt.text, {}), idx=0,
                        metadata=(self.task_name, prompt.reference["doc"], 1))
        inst.resps = [generation.text]
        filters = getattr(self.lm_task, "_filters", [])
        for f in filters:
            f.apply([inst])
        chosen = self.params.get("filter") or (filters[0].name if filters else None)
        response = inst.filtered_resps.get(chosen, generation.text) if chosen else generation.text
        results = self.lm_task.process_results(doc, [response])
        metric = self.params.get("metric") or next(iter(results))
        if metric not in results:
            raise CrevalError(f"task {self.name}: no metric {metric!r}; it reports {sorted(results)}")
        value = float(results[metric])
        return Grade(correct=value >= 1.0, answer=str(response), detail=f"{metric}={value:g} filter={chosen}")

    def _grade_in_sandbox(self, prompt: Prompt, generation: Generation) -> Grade:
        from creval.sandbox import Job, run
        from creval.tasks.code_base import extract_code

        doc = self.docs[prompt.reference["doc"]]
        if self._code_shape() == "humaneval":
            job = Job(doc["prompt"] + generation.text, f"{doc['test']}\n\ncheck({doc['entry_point']})\n",
                      entry_point=doc["entry_point"])
        else:
            setup = doc.get("test_setup_code") or "\n".join(doc.get("test_imports") or [])
            job = Job(f"{setup}\n{extract_code(generation.text)}\n", "\n".join(doc["test_list"]) + "\n")
        result = run(job)
        if result.status == "sandbox-error":
            return Grade(correct=None, status="sandbox-error", detail=result.stderr_tail[-300:])
        return Grade(correct=result.passed, status=result.status, detail=result.stderr_tail[-300:])
