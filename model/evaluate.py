"""Evaluate a list of expressions over every period of a run at once (periods are the vector axis).

Used for the accounting matrices: compiled once per model, then evaluated on each run's values. Lags
before period 0 read period 0 (the initial state), as the solver does.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import linecache
import math

import numpy as np

from .parse import (
    positional_symbols,
    split_symbol,
    sympy,  # imported on first use (parse._Deferred): a cached run never parses
)


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
        body = [zero if e is None else e for e in expressions]
        # Most cells of an accounting matrix are empty (0), and so are their sizes: a constant is written
        # once into the output, and only the rest is generated, evaluated and copied (DRYPOWDER: 892 of 1212).
        self._varying = np.array([i for i, e in enumerate(body) if not e.is_number], dtype=int)
        constants = [(i, float(e)) for i, e in enumerate(body) if e.is_number and e != 0]
        self._constant_rows = np.array([i for i, _ in constants], dtype=int)
        self._constant_values = np.array([value for _, value in constants], dtype=float)
        self._lag = max([lag for _, _, lag in self._reads] + [0])
        self._lagged = sorted({index for kind, index, lag in self._reads if kind == "series" and lag > 0})
        self._lagged_position = {index: i for i, index in enumerate(self._lagged)}
        # Renamed in one pass; lambdify's dummify did it one symbol at a time, each a pass over every
        # cell: 0.3 s of DRYPOWDER's 0.5 s here.
        names = positional_symbols(symbols)
        varying = tuple(body[i].xreplace(names) for i in self._varying)
        self._function = sympy.lambdify(list(names.values()), varying, modules="numpy", cse=True)

    @property
    def lag(self) -> int:
        """The longest lag any expression reads."""
        return self._lag

    def __call__(self, values: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        """``values[period, series, ...]`` and ``parameters[parameter, ...]`` -> ``out[expression, period, ...]``.

        Parameters that change over time come as ``parameters[period, parameter, ...]``. A lagged read is
        a view into one copy of the series read with a lag, below rows that repeat period 0.
        """
        varying = parameters.ndim == values.ndim
        periods = len(values)
        if self._lag:  # only the series read with a lag, below rows that repeat period 0
            lagged = values[:, self._lagged]
            padded = np.concatenate([np.repeat(lagged[:1], self._lag, axis=0), lagged])
        arguments = []
        for kind, index, lag in self._reads:
            if kind == "parameter":
                arguments.append(parameters[:, index] if varying else parameters[index])
            elif lag == 0:
                arguments.append(values[:, index])
            else:
                column = self._lagged_position[index]
                arguments.append(padded[self._lag - lag : self._lag - lag + periods, column])
        shape = values.shape[:1] + values.shape[2:]
        out = np.zeros((self.size, *shape))
        if len(self._constant_rows):
            out[self._constant_rows] = self._constant_values.reshape(-1, *[1] * len(shape))
        with np.errstate(all="ignore"):
            for i, value in zip(self._varying, self._function(*arguments)):
                out[i] = value
        return out


#: where each global name of a printed function comes from (sympy's numpy printer reads these modules)
FUNCTION_MODULES = {"numpy": np, "functools": functools, "math": math}


def printed_source(function) -> tuple[str, dict[str, str]]:
    """The source sympy's lambdify printed for ``function``, and the module each global name it reads is from.

    Both the compiled-model cache (which stores the text) and the machine-code accounting check (which
    compiles the same text with numba) need it. ValueError for a name from anywhere else.
    """
    import inspect

    names = {}
    for name in function.__code__.co_names:
        if name not in function.__globals__:
            continue  # an attribute name, or a builtin
        value = function.__globals__[name]
        module = next((m for m, space in FUNCTION_MODULES.items() if getattr(space, name, None) is value), None)
        if module is None:
            if getattr(builtins, name, None) is value:
                continue
            raise ValueError(f"the printed function reads {name!r}, which is not from numpy, math or functools")
        names[name] = module
    return inspect.getsource(function), names


def load_printed(source: str, names: dict[str, str]) -> dict:
    """The namespace of ``source`` (text that ``printed_source`` returned), run with the names it reads.

    The text is registered with ``linecache`` under a name of its own, as lambdify does, so that
    ``printed_source`` works again on the loaded function and a traceback shows its lines.
    """
    filename = f"<drypowder printed {hashlib.sha256(source.encode()).hexdigest()[:16]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {name: getattr(FUNCTION_MODULES[module], name) for name, module in names.items()}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own printed code (see drypowder.cache)
    return namespace
