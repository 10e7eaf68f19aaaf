"""Running untrusted, model-generated code.

This is the seam every code grader goes through. Today: one subprocess per program, isolated Python
(``-I``), an empty environment, a private temporary working directory, rlimits and a wall-clock timeout
that kills the whole process group. The pass token is random per execution and printed only after every
test ran, so a program that exits early with status 0 cannot fake a pass.
"""
from .executor import ExecResult, check_program, run_program

__all__ = ["ExecResult", "check_program", "run_program"]
