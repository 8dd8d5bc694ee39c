"""Evaluate a list of expressions over every period of a run at once (periods are the vector axis).

Used for the accounting matrices: compiled once per model, then evaluated on each run's values. Lags
before period 0 read period 0 (the initial state), as the solver does.
"""

from __future__ import annotations

import numpy as np
import sympy

from .parse import split_symbol


class ExpressionEvaluator:
    """Compiled ``expressions`` (None entries evaluate to 0) over series and parameters by name."""

    def __init__(self, expressions: list[sympy.Expr | None], series: list[str], parameters: list[str]):
        self.size = len(expressions)
        symbols = sorted({s for e in expressions if e is not None for s in e.free_symbols}, key=lambda s: s.name)
        series_index = {name: i for i, name in enumerate(series)}
        parameter_index = {name: i for i, name in enumerate(parameters)}
        self._reads = []  # per argument: ("series", column, lag) or ("parameter", index, 0)
        for symbol in symbols:
            name, lag = split_symbol(symbol)
            if name in parameter_index:
                self._reads.append(("parameter", parameter_index[name], 0))
            else:
                self._reads.append(("series", series_index[name], lag))
        zero = sympy.Integer(0)
        body = tuple(zero if e is None else e for e in expressions)
        self._function = sympy.lambdify(symbols, body, modules="numpy", dummify=True, cse=True)

    def __call__(self, values: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        """``values[period, series, ...]`` and ``parameters[parameter, ...]`` -> ``out[expression, period, ...]``.

        Parameters that change over time come as ``parameters[period, parameter, ...]``.
        """
        varying = parameters.ndim == values.ndim
        arguments = []
        for kind, index, lag in self._reads:
            if kind == "parameter":
                arguments.append(parameters[:, index] if varying else parameters[index])
            elif lag == 0:
                arguments.append(values[:, index])
            else:
                column = values[:, index]
                head = np.repeat(column[:1], min(lag, len(column)), axis=0)
                arguments.append(np.concatenate([head, column[:-lag]])[: len(column)])
        shape = values.shape[:1] + values.shape[2:]
        out = np.empty((self.size, *shape))
        with np.errstate(all="ignore"):
            for i, value in enumerate(self._function(*arguments)):
                out[i] = value
        return out
