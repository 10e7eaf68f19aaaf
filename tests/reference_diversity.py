"""The ``diversity`` package's functions as references, loaded file by file: ``import diversity`` would
also import spaCy models, openai and an nltk download that its ROUGE-L, gzip, n-gram and
self-repetition functions do not use (the package is installed without its dependencies, which pin
transformers < 5)."""
import importlib.util
import os

import pytest


def load(name: str):
    spec = importlib.util.find_spec("diversity")
    if spec is None:
        assert os.environ.get("CI") != "true", "CI must test against the diversity package (tox installs it)"
        pytest.skip("the diversity package is not installed (tox installs it: pip install --no-deps diversity)")
    path = f"{spec.submodule_search_locations[0]}/{name}.py"
    module_spec = importlib.util.spec_from_file_location(f"diversity_reference_{name}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module
