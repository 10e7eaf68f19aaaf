"""The import direction of the library: a module imports only from its own floor or the floors below.

Floors, lowest first (every module of the package is on exactly one; a new module must be placed):

0. core: errors, records, hashing, stats, signature, validation, spec strings, JSON helpers, atomic writes
1. parts: the store, tasks, metrics, backends, the sandbox, checkpoints, manifests, the registry
2. flows: scoring, runner, sweep, audit, the testbed
3. leaderboards
4. front: the command line, the demo, the ``creval`` package facade

And the store's files are the store's: no module but ``creval.store`` names one of them in code.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {"harness": "creval", "tasks": "creval.tasks", "metrics": "creval.metrics",
                "leaderboards": "creval.leaderboards"}  # [tool.setuptools.package-dir] in pyproject.toml

FLOORS: dict[str, int] = {
    **dict.fromkeys(["errors", "records", "hashing", "stats", "signature", "validation", "spec_strings",
                     "jsonsafe", "atomic", "_version"], 0),
    **dict.fromkeys(["store", "task", "metric", "tasks", "metrics", "backends", "sandbox", "checkpoints", "hub",
                     "frames", "manifest", "engines", "registry", "perturb"], 1),
    **dict.fromkeys(["scoring", "runner", "sweep", "audit", "testbed", "results_file"], 2),
    **dict.fromkeys(["leaderboards", "probe"], 3),  # analyses over stored runs
    **dict.fromkeys(["", "cli", "demo", "demo_findings"], 4),
}
# names of the store's files and folders (creval/store.py): only the store builds paths from them
STORE_NAMES = {"cells", "cell.json", "places.json", "generations.parquet", ".locks"}
STORE_PREFIXES = ("grades-", "scores-")


def modules() -> dict[str, tuple[Path, bool]]:
    """creval module name -> (file, is a package's __init__)."""
    found = {}
    for folder, package in PACKAGE_DIRS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = (path, path.name == "__init__.py")
    return found


def floor(module: str) -> int:
    """The floor of a creval module: its first name under creval (``creval`` itself: the facade)."""
    first = module.split(".")[1] if "." in module else ""
    if first not in FLOORS:
        raise AssertionError(f"{module} is on no floor: place {first!r} in FLOORS of tests/test_layering.py")
    return FLOORS[first]


def creval_imports(name: str, source: str, is_package: bool, known: set[str]) -> list[tuple[int, str]]:
    """(line, creval module) of every import in ``source``, the module ``name``; relative imports resolved,
    ``from pkg import sub`` counted as the submodule ``pkg.sub``."""

    def known_prefix(module: str) -> str:
        while module and module not in known:
            module = module.rpartition(".")[0]
        return module

    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out += [(node.lineno, m) for m in map(known_prefix, targets) if m.split(".")[0] == "creval" and m != name]
    return sorted(out)


def store_file_names(source: str) -> list[tuple[int, str]]:
    """(line, text) of the string constants in code that name one of the store's files or folders (a
    mapping key such as ``{"cells": ...}`` or ``row["cells"]`` is data, not a path)."""
    tree = ast.parse(source)
    keys = {id(k) for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys}
    keys |= {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
    hits = []
    for node in ast.walk(tree):
        if id(node) in keys:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value in STORE_NAMES or node.value.startswith(STORE_PREFIXES)):
            hits.append((node.lineno, node.value))
    return sorted(hits)


def violations(mods: dict[str, tuple[Path, bool]]) -> list[str]:
    known = set(mods)
    found = []
    for name, (path, is_package) in mods.items():
        for line, target in creval_imports(name, path.read_text(), is_package, known):
            if floor(target) > floor(name):
                found.append(f"{name}:{line} (floor {floor(name)}) imports {target} (floor {floor(target)})")
    return found


def test_no_module_imports_from_a_higher_floor():
    assert violations(modules()) == []


def test_only_the_store_names_its_files():
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for name, (path, _) in modules().items()
             if name != "creval.store" for line, text in store_file_names(path.read_text())]
    assert found == [], "go through creval.store.Store instead of building paths to its files"


def test_the_checks_catch_what_they_are_for(tmp_path):
    known = {"creval", "creval.records", "creval.store", "creval.cli", "creval.cli.main", "creval.runner"}
    # relative, absolute and from-package imports all resolve to the module imported
    source = "from ..cli import main\nimport creval.runner\nfrom creval import store\n"
    assert creval_imports("creval.sandbox.pool", source, False, known) == [
        (1, "creval.cli.main"), (2, "creval.runner"), (3, "creval.store")]
    (tmp_path / "main.py").write_text("from ..records import Prompt\n")
    (tmp_path / "records.py").write_text("def f():\n    from .cli.main import main\n")  # a lazy import counts too
    mods = {"creval.records": (tmp_path / "records.py", False), "creval.cli.main": (tmp_path / "main.py", False)}
    assert violations(mods) == ["creval.records:2 (floor 0) imports creval.cli.main (floor 4)"]
    with pytest.raises(AssertionError, match="place 'newthing' in FLOORS"):
        floor("creval.newthing")
    code = 'p = root / "cells" / key\nq = f"grades-{h}.parquet"\n"""cell.json is written last"""\n'
    assert store_file_names(code) == [(1, "cells"), (2, "grades-")]
    assert store_file_names('doc = {"cells": []}\nrows = doc["cells"]\n') == []
