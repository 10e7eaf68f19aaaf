"""User-facing errors: the CLI prints their message as one line and exits non-zero, no traceback."""


class CrevalError(Exception):
    """Bad input or an unusable environment, described so the user can fix it."""
