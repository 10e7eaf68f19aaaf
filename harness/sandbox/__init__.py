"""Running untrusted, model-generated code.

Every program runs in its own process inside bubblewrap where it works (see ``isolation``), with
rlimits (address space, CPU seconds, file size, processes, open files) and a wall-clock timeout that
kills the whole process group. A pass is reported by the sandbox's own runner with a random
per-execution token, only after the solution and every test returned normally: ``exit(0)``,
``os._exit(0)``, ``SystemExit``, exceptions and printed pass markers never count. Threat model: the
defences hold against early exits, fake markers, rebinding builtins, always-equal return values
(flagged through the recorded return types), and anything that needs the network, the host's files or
its processes; code that introspects the interpreter's own frames to find the token is out of scope.
"""
from .executor import ExecResult, Job, check_program, run, run_many, run_program
from .isolation import isolation_level

__all__ = ["ExecResult", "Job", "check_program", "isolation_level", "run", "run_many", "run_program"]
