"""drypowder: stock-flow-consistent macro models, solved period by period, checked and explained.

>>> import drypowder
>>> sim = drypowder.load("sim")
>>> results = sim.set(alpha1=0.6).run(periods=60)      # a pandas DataFrame, period x variable
"""

from .errors import (
    AccountingError,
    ConvergenceError,
    DrypowderError,
    DuplicateDefinitionError,
    ModelError,
    ModelFileError,
    NonFiniteError,
    ParseError,
    RequirementError,
    SingularBlockError,
    SolveError,
    SystemNotClosedError,
    UnknownNameError,
)
from .model import Model, load
from .multipliers import multipliers
from .scenario import compare, read_scenario, run_scenario
from .shipped import shipped_models
from .shocks import Shock

__all__ = [
    "AccountingError",
    "ConvergenceError",
    "DrypowderError",
    "DuplicateDefinitionError",
    "Model",
    "ModelError",
    "ModelFileError",
    "NonFiniteError",
    "ParseError",
    "RequirementError",
    "Shock",
    "SingularBlockError",
    "SolveError",
    "SystemNotClosedError",
    "UnknownNameError",
    "compare",
    "load",
    "multipliers",
    "read_scenario",
    "run_scenario",
    "shipped_models",
]
