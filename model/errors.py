"""Every failure a user can cause has its own exception class under ``DrypowderError``.

Each message says where (file, line, variable, period, block) and what to do, so that a newcomer
never has to read a traceback from inside sympy or numpy. The command line maps the three families
to exit codes: model/usage errors 2, solve errors 3, accounting errors 4.
"""

from __future__ import annotations


class DrypowderError(Exception):
    """Base class of every error drypowder raises on purpose."""

    exit_code = 1


# --- bad input: the model file, a scenario, a command-line value (exit code 2) -----------------


class ModelError(DrypowderError):
    """The model (its file, or a value given to it) is not acceptable; nothing was solved."""

    exit_code = 2


class ModelFileError(ModelError):
    """A model file cannot be read: missing, not TOML, or a section of the wrong shape."""


class ParseError(ModelError):
    """An equation is not in the restricted equation grammar (syntax, forbidden construct, size)."""


class UnknownNameError(ModelError):
    """An equation, ``--set`` or ``[initial]`` uses a name that the model does not define."""


class DuplicateDefinitionError(ModelError):
    """A name is defined twice: two equations, or an equation and a parameter/exogenous value."""


class SystemNotClosedError(ModelError):
    """The equations do not determine the declared variables (more or fewer equations than variables)."""


class RequirementError(ModelError):
    """The inputs of a run (a parameter, an exogenous path, a starting value) break a ``[[requires]]``."""


# --- the solve failed (exit code 3) ---------------------------------------------------------------


class SolveError(DrypowderError):
    """A period could not be solved; the model file was fine."""

    exit_code = 3


class ConvergenceError(SolveError):
    """A simultaneous block did not reach the residual tolerance within the iteration limit."""


class SingularBlockError(SolveError):
    """A simultaneous block's Jacobian is singular: the block does not pin down its variables."""


class NonFiniteError(SolveError):
    """An equation produced NaN or infinity (log of a negative number, division by zero, overflow)."""


# --- the accounting does not add up (exit code 4) ------------------------------------------------


class AccountingError(DrypowderError):
    """A balance-sheet or transactions-flow row or column does not sum to zero."""

    exit_code = 4
