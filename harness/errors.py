"""User-facing errors and the exit codes of the ``creval`` command.

The CLI prints a ``CrevalError`` as one line and exits ``BAD_INPUT``, no traceback. Any other exception
is a bug: one line, a request to report it, exit ``INTERNAL_ERROR``.
"""

OK = 0
FAILED = 1  # a regression gate crossed (compare), a checkpoint failed (sweep)
BAD_INPUT = 2  # bad arguments, files or environment; nothing was written
INTERNAL_ERROR = 3  # an uncaught exception: a bug in creval
INTERRUPTED = 130  # Ctrl-C; completed cells are kept


class CrevalError(Exception):
    """Bad input or an unusable environment, described so the user can fix it."""
