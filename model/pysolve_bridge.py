"""Export any drypowder model to pysolve, the independent reference solver, and run it there.

pysolve reads book-like equation text, so the export prints each validated expression back as text
(floats at full precision, ``ifelse`` as pysolve's ``if_true``). pysolve's default stopping test has an
absolute tolerance of 1e-4; ``run_pysolve`` passes a tight ``until=`` so the comparison means something.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sympy
from sympy.printing.str import StrPrinter

from .model import Model
from .shocks import Shock


class _PysolvePrinter(StrPrinter):
    """Prints expressions in pysolve's syntax, with every float at full (round-trip) precision."""

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Piecewise(self, expr):
        # ifelse(c, a, b) was parsed into Piecewise((a, c), (b, True)); pysolve's if_true(c) is 1 or 0.
        (value, condition), (otherwise, _) = expr.args
        test = self._print(condition)
        return f"(if_true({test})*({self._print(value)}) + (1 - if_true({test}))*({self._print(otherwise)}))"


def equation_text(expression: sympy.Expr) -> str:
    """One right-hand side in pysolve's syntax (lags print as ``X(-1)``, as both tools write them)."""
    return _PysolvePrinter().doprint(expression)


def to_pysolve(model: Model):
    """A pysolve model with the same equations, parameters, exogenous values and starting values."""
    from pysolve.model import Model as PysolveModel

    out = PysolveModel()
    out.set_var_default(0)
    out.set_param_default(0)
    for equation in model.spec.equations:
        out.var(equation.name, desc=equation.description, default=model.initial.get(equation.name, 0.0))
    for name, value in {**model.parameters, **model.exogenous}.items():
        out.param(name, default=value)
    for equation in model.spec.equations:
        out.add(f"{equation.name} = {equation_text(equation.expression)}")
    return out


def pysolve_method(model: Model, iterations: int = 500) -> tuple[str, int]:
    """pysolve's Newton-Raphson, or its Gauss-Seidel with 20 times the iterations when the model has switches:
    pysolve's Newton cannot differentiate its ``if_true``."""
    switches = any(eq.expression.has(sympy.Piecewise) for eq in model.spec.equations)
    return ("gauss-seidel", iterations * 20) if switches else ("newton-raphson", iterations)


def run_pysolve(
    model: Model,
    periods: int,
    shocks: list[Shock] | None = None,
    method: str | None = None,
    tolerance: float = 1e-13,
    iterations: int = 500,
) -> pd.DataFrame:
    """Simulate with pysolve, period by period, with the same exogenous paths as ``model.run``.

    ``method`` defaults to pysolve's Newton-Raphson, or to its Gauss-Seidel (with 20 times the
    iterations) when the model has switches: pysolve's Newton cannot differentiate its ``if_true``.
    """
    if method is None:
        method, iterations = pysolve_method(model, iterations)
    shocks = list(model.spec.experiment.shocks) if shocks is None else list(shocks)
    _, exogenous, _ = model.inputs(periods, shocks)
    names = list(model.exogenous)
    solver = to_pysolve(model)

    def until(previous, current):
        return np.allclose(previous, current, rtol=tolerance, atol=tolerance)

    for period in range(1, periods + 1):
        solver.set_values({name: float(exogenous[period, i, 0]) for i, name in enumerate(names)})
        solver.solve(iterations=iterations, until=until, method=method)
    columns = model.spec.endogenous + names
    frame = pd.DataFrame([[row[c] for c in columns] for row in solver.solutions], columns=columns)
    # pysolve's first solution row is the starting context, in which exogenous values are the period-1
    # ones it was given; period 0 is defined by the initial state, so take those from our inputs.
    frame.loc[0, names] = exogenous[0, :, 0]
    frame.index.name = "period"
    return frame
