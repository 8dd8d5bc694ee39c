"""A drypowder model translated to ModelFlow (PyPI ``modelflowib``, imported as ``modelclass``) and run there.

ModelFlow's language, as read from ``modelclass.model.from_eq`` and ``modelpattern`` (modelflowib 2.82):

* one equation per line (``sep='\\n'``); without a ``$`` in the text, ``FRML <> ... $`` is added to
  each line, so none is written here;
* names are upper-cased by ModelFlow, so they are upper-cased here, and two names that differ only in
  case (or that clash with one of ModelFlow's function names) get a suffix;
* lags are ``X(-1)``; ``d(X)`` was already expanded to ``X - X(-1)`` by drypowder's parser;
* functions: ``EXP LOG SQRT ABS MIN MAX TANH`` exist in ModelFlow; ``ifelse`` has no counterpart, so a
  condition becomes 1/0 through four small functions passed as ``funks`` (``DP_LT`` ... ``DP_GE``;
  ``and`` is a product, ``or`` a MAX) and ``ifelse(c, a, b)`` becomes ``c*(a) + (1 - c)*(b)``, as the
  pysolve bridge does;
* parameters are not declared: every name without an equation is exogenous, a column of the input
  DataFrame, so a parameter is a constant column.

Solving: ``model(df, start, end, solver="newton", newton_absconv=..., max_iterations=...)``. ModelFlow's
Newton builds a numerical Jacobian of the simultaneous core once (at the first period, ``forcenum=True``)
and reuses it every period unless ``nonlin=k`` rebuilds it every k iterations (that rebuild goes through
a DataFrame and costs 0.05 s each). It stops when the sum of the absolute Newton steps is at most
``newton_absconv`` (default 1e-3, absolute), and after ``max_iterations`` (default 20) it stops *without
a warning*. Its default solver for a simultaneous model, Gauss-Seidel (``solver="sim"``), stops on a
relative change of 1e-7 in variables above ``absconv=0.01``, so from a start at zero it can stop at once
with wrong numbers (SIM: off by 3.8). Whatever the solver, compare the result with ``largest_difference``.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import sympy
from sympy.printing.str import StrPrinter

#: ModelFlow's Newton, stopped tightly: the sum of absolute Newton steps over the core below 1e-12
NEWTON = {"solver": "newton", "newton_absconv": 1e-12, "max_iterations": 100, "relconv": 1e-15, "absconv": 1e-14}


def newton_settings(scale: float) -> dict:
    """``NEWTON`` with its absolute stop scaled to the model's size: ``max(1e-12, 1e-14 * scale)``.

    ``scale`` is the largest sum of the absolute values of the endogenous variables in any period. The
    sum of the Newton steps of variables of size 1e6 never falls below 1e-12 (one rounding step of 1e6
    is 1.2e-10), so an absolute 1e-12 would make a large model iterate to ``max_iterations`` every period.
    """
    return {**NEWTON, "newton_absconv": max(1e-12, 1e-14 * float(scale))}


_FUNCTIONS = {"exp": "EXP", "log": "LOG", "sqrt": "SQRT", "tanh": "TANH"}
_RELATIONS = {"<": "DP_LT", "<=": "DP_LE", ">": "DP_GT", ">=": "DP_GE"}


def dp_lt(a, b):
    return 1.0 if a < b else 0.0


def dp_le(a, b):
    return 1.0 if a <= b else 0.0


def dp_gt(a, b):
    return 1.0 if a > b else 0.0


def dp_ge(a, b):
    return 1.0 if a >= b else 0.0


FUNKS = [dp_lt, dp_le, dp_gt, dp_ge]


def available() -> tuple[bool, str]:
    """(True, version) if ``from modelclass import model`` works here, else (False, why not)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            from modelclass import model  # noqa: F401
    except Exception as error:  # ImportError, or a broken install
        return False, f"ModelFlow is not importable here ({type(error).__name__}: {error}); pip install modelflowib"
    try:
        from importlib.metadata import version

        return True, f"modelflowib {version('modelflowib')}"
    except Exception:
        return True, "modelflowib"


def _reserved() -> set[str]:
    try:
        import modelpattern

        return {name.upper() for name in modelpattern.funkname} | {"FRML"} | set(_RELATIONS.values())
    except Exception:
        return {"EXP", "LOG", "SQRT", "ABS", "MIN", "MAX", "TANH", "DIFF", "DLOG", "FRML"} | set(_RELATIONS.values())


def modelflow_names(model) -> dict[str, str]:
    """Our name -> ModelFlow's: upper case, with a suffix where that collides or is a function's name."""
    reserved, taken, out = _reserved(), set(), {}
    for name in [*model.spec.endogenous, *model.exogenous, *model.parameters]:
        candidate, k = name.upper(), 1
        while candidate in taken or candidate in reserved:
            k += 1
            candidate = f"{name.upper()}_{k}"
        taken.add(candidate)
        out[name] = candidate
    return out


class _Printer(StrPrinter):
    def __init__(self, names: dict[str, str]):
        super().__init__()
        self.names = names

    def _print_Symbol(self, expr):
        from drypowder.parse import split_symbol

        name, lag = split_symbol(expr)
        return self.names[name] + (f"({-lag})" if lag else "")

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Rational(self, expr):
        return f"({expr.p}/{expr.q})"

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name not in _FUNCTIONS:
            raise NotImplementedError(f"no ModelFlow counterpart for {name}()")
        return f"{_FUNCTIONS[name]}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr):
        return f"ABS({self._print(expr.args[0])})"

    def _nest(self, function, args):
        out = self._print(args[0])
        for arg in args[1:]:
            out = f"{function}({out}, {self._print(arg)})"
        return out

    def _print_Min(self, expr):
        return self._nest("MIN", expr.args)

    def _print_Max(self, expr):
        return self._nest("MAX", expr.args)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sympy.Rational(1, 2):
            return f"SQRT({self._print(base)})"
        if exponent == -1:
            return f"(1/({self._print(base)}))"
        return f"(({self._print(base)})**({self._print(exponent)}))"

    def _print_Relational(self, expr):
        return f"{_RELATIONS[expr.rel_op]}({self._print(expr.lhs)}, {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return "(" + "*".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return self._nest("MAX", expr.args)

    def _print_Piecewise(self, expr):
        (value, condition), (otherwise, _) = expr.args
        test = self._print(condition)
        return f"(({test})*({self._print(value)}) + (1 - ({test}))*({self._print(otherwise)}))"


def equations(model) -> str:
    """The model's equations in ModelFlow's language, one per line."""
    names = modelflow_names(model)
    printer = _Printer(names)
    return "\n".join(f"{names[e.name]} = {printer.doprint(e.expression)}" for e in model.spec.equations)


def build(model):
    """A ModelFlow model of the same equations (its messages to stdout are swallowed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        from modelclass import model as ModelFlow

        return ModelFlow.from_eq(equations(model), modelname=model.name, silent=True, funks=FUNKS)


def databank(model, periods: int, shocks=None) -> pd.DataFrame:
    """The input DataFrame: rows ``1 - max_lag .. periods``; parameters as constant columns, the
    exogenous paths of ``model.run(periods, shocks)``, and endogenous columns at their starting values
    (rows up to 0 are the initial state, as in drypowder)."""
    shocks = list(model.spec.experiment.shocks) if shocks is None else list(shocks)
    names = modelflow_names(model)
    params, exogenous, initial = model.inputs(periods, shocks)
    pad = model.compiled.max_lag
    index = range(1 - pad, periods + 1)
    rows = len(index)
    columns = {}
    for i, name in enumerate(model.spec.endogenous):
        columns[names[name]] = np.full(rows, initial[i, 0])
    for i, name in enumerate(model.exogenous):
        columns[names[name]] = np.concatenate([np.full(pad - 1, exogenous[0, i, 0]), exogenous[:, i, 0]])
    for i, name in enumerate(model.compiled.parameters):
        columns[names[name]] = np.full(rows, params[i, 0])
    return pd.DataFrame(columns, index=index)


def run(flow_model, frame: pd.DataFrame, periods: int, settings: dict | None = None) -> pd.DataFrame:
    """Solve periods 1..periods with ``settings`` (default ``NEWTON``; ``{}``: ModelFlow's own choice)."""
    settings = NEWTON if settings is None else settings
    with contextlib.redirect_stdout(io.StringIO()):
        return flow_model(frame, 1, periods, silent=True, reset_options=True, **settings)


def largest_difference(model, flow_result: pd.DataFrame, ours: pd.DataFrame) -> float:
    """Largest ``|ModelFlow - ours| / max(1, |ours|)`` over every endogenous variable, periods 0..T."""
    names = modelflow_names(model)
    theirs = np.column_stack([flow_result.loc[0:, names[n]].to_numpy(dtype=float) for n in model.spec.endogenous])
    mine = ours[model.spec.endogenous].to_numpy(dtype=float)
    return float(np.max(np.abs(theirs - mine) / np.maximum(1.0, np.abs(mine))))
