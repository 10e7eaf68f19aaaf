"""Logging for the ``creval`` command (only the command line configures logging; the library logs to
``logging.getLogger("creval...")`` and leaves every other library's settings alone).

``--verbosity`` (debug, info, warning, error; default info) sets the level of creval's own log lines on
stderr. Below debug, the command also lowers other libraries' chatter for its own run: transformers'
and datasets' log levels go to ERROR (datasets': CRITICAL, its errors become creval's one-line error),
lm-eval's to WARNING, and their progress bars are turned off (creval shows its own), through the
environment variables they read (``TRANSFORMERS_VERBOSITY``, ``DATASETS_VERBOSITY``,
``HF_DATASETS_DISABLE_PROGRESS_BARS``, ``HF_HUB_DISABLE_PROGRESS_BARS``; one already set wins).
``--verbosity debug`` leaves all of them as they are.
"""
from __future__ import annotations

import logging
import os
import sys

LEVELS = ("debug", "info", "warning", "error")
_HANDLER_NAME = "creval-cli"


def level(text: str) -> str:
    """An argparse type: a level name, case-insensitive (lm-eval writes them in capitals)."""
    import argparse

    name = text.lower()
    if name not in LEVELS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(LEVELS)}, got {text!r}")
    return name


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each line (a caller may replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure(verbosity: str = "info") -> None:
    """creval's log lines to stderr at ``verbosity``; other libraries quieted unless it is debug."""
    logger = logging.getLogger("creval")
    logger.setLevel(verbosity.upper())
    if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        handler = _Stderr()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("creval: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    if verbosity != "debug":
        _quiet_libraries()


def _quiet_libraries() -> None:
    """Through the environment for libraries not imported yet (importing them here would cost every
    command seconds), through their functions for those already imported. A variable the user set wins."""
    for name, value in (("TRANSFORMERS_VERBOSITY", "error"), ("DATASETS_VERBOSITY", "critical"),
                        ("HF_DATASETS_DISABLE_PROGRESS_BARS", "1"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        os.environ.setdefault(name, value)
    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    if "datasets" in sys.modules:
        import datasets

        datasets.logging.set_verbosity(datasets.logging.CRITICAL)
        datasets.disable_progress_bars()
