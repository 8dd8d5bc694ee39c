"""Compile each block once into vectorised numpy functions: values, residual Jacobian, per-equation.

Everything compiled works on a trailing batch axis: every argument is an array of shape ``(K,)``, one
entry per scenario or parameter draw, so K runs solve in one pass. Code is printed by sympy's numpy
printer from the expression tree that ``parse`` built and validated (never from the file's text), with
every symbol printed as a positional argument ``a0, a1, ...``, so no name in a model file can reach the
generated code. Every block's functions go into one module source that is compiled once: a
``lambdify`` per function cost ~3 ms of fixed overhead, most of the compile time of a large model. That
source is also what the compiled-model cache stores (cache.py), so a second start compiles it again
without sympy.

Indexing: all time series (endogenous, then exogenous) live in one array ``values[row, series, batch]``
where ``row = period + pad`` and ``pad`` is the longest lag (rows before period 0 repeat the initial
state). Parameters live in ``params[parameter, batch]`` and are constant over time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .graph import Block
from .parse import positional_symbols, split_symbol
from .spec import ModelSpec


@dataclass
class CompiledBlock:
    """One block's compiled functions and the addresses of everything they read.

    Arguments of every function, in order: the block's own variables (current period), then
    ``inputs`` (other series at some lag), then ``parameters``.
    """

    block: Block
    locations: list[str]  # file and line of each block equation, for messages
    targets: np.ndarray  # series index of each block variable
    input_names: list[str]  # as written, e.g. "Hh(-1)", for messages
    input_lags: np.ndarray
    input_series: np.ndarray
    parameter_names: list[str]
    parameter_index: np.ndarray
    values: object  # f(*args) -> tuple of right-hand sides g_i
    equations: list  # per-equation f_i(*args) -> g_i, for Gauss-Seidel
    jacobian: object | None  # f(*args) -> tuple of the nonzero entries of dg/dx
    jacobian_rows: np.ndarray
    jacobian_cols: np.ndarray
    positive: np.ndarray  # bool per block variable: solved in its logarithm
    # The sympy expressions behind ``values`` and ``jacobian``, kept for the numba printer (jit.py) so
    # it does not differentiate again; None in a model read from the compiled-model cache.
    expressions: tuple | None = field(default=None, repr=False, compare=False)
    jacobian_expressions: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.targets)


@dataclass
class CompiledModel:
    """A model ready to simulate: series and parameter layout, and its blocks in solve order."""

    spec: ModelSpec
    series: list[str]
    parameters: list[str]
    max_lag: int
    blocks: list[CompiledBlock]
    machine_code: object = field(default=None, repr=False)  # the numba period loop, built on first use
    machine_source: str | None = field(default=None, repr=False)  # its generated source (see jit.py)
    source: str = field(default="", repr=False)  # the generated numpy module of every block's functions
    cache_key: str | None = field(default=None, repr=False)  # its model file's entry in the cache (cache.py)

    @property
    def n_endogenous(self) -> int:
        return len(self.spec.endogenous)


def compile_model(spec: ModelSpec) -> CompiledModel:
    """Order the equations into blocks and compile every block; done once per model structure."""
    from .graph import solve_order

    series = spec.series
    series_index = {name: i for i, name in enumerate(series)}
    parameters = list(spec.parameters)
    parameter_index = {name: i for i, name in enumerate(parameters)}
    max_lag = max([split_symbol(s)[1] for eq in spec.equations for s in eq.expression.free_symbols] + [1])
    positive = set(spec.positive)
    writer = _ModuleWriter()
    blocks = [
        _compile_block(spec, number, block, series_index, parameter_index, positive, writer)
        for number, block in enumerate(solve_order(spec))
    ]
    functions = load_functions(writer.source())
    for block in blocks:
        bind_functions(block, functions)
    return CompiledModel(spec, series, parameters, max_lag, blocks, source=writer.source())


def block_expressions(spec: ModelSpec, block: Block) -> tuple[list, list, list, list]:
    """A block's right-hand sides and the nonzero entries of their Jacobian: (rhs, entries, rows, cols)."""
    import sympy

    right_hand_sides = [spec.equation(name).expression for name in block.variables]
    entries, rows, cols = [], [], []
    if block.simultaneous:
        own = [sympy.Symbol(name) for name in block.variables]
        for i, rhs in enumerate(right_hand_sides):
            uses = rhs.free_symbols  # sympy walks the whole expression for it each time it is asked
            for j, variable in enumerate(own):
                if variable in uses:
                    entries.append(sympy.diff(rhs, variable))
                    rows.append(i)
                    cols.append(j)
    return right_hand_sides, entries, rows, cols


def _compile_block(spec, number: int, block: Block, series_index, parameter_index, positive, writer) -> CompiledBlock:
    import sympy

    equations = [spec.equation(name) for name in block.variables]
    own = [sympy.Symbol(name) for name in block.variables]
    own_set = set(own)
    inputs, params = set(), set()
    for equation in equations:
        for symbol in equation.expression.free_symbols:
            name, _ = split_symbol(symbol)
            if symbol in own_set:
                continue
            (params if name in parameter_index else inputs).add(symbol)
    inputs = sorted(inputs, key=lambda s: s.name)
    params = sorted(params, key=lambda s: s.name)
    arguments = own + inputs + params
    right_hand_sides, entries, rows, cols = block_expressions(spec, block)
    jacobian = None
    if block.simultaneous:
        jacobian = writer.add(f"jacobian_{number}", arguments, entries, cse=len(entries) > 1)
        equation_functions = [
            writer.add(f"equation_{number}_{i}", arguments, rhs, cse=False) for i, rhs in enumerate(right_hand_sides)
        ]
    else:
        equation_functions = []
    split_inputs = [split_symbol(s) for s in inputs]
    return CompiledBlock(
        block=block,
        locations=[str(equation.where) for equation in equations],
        targets=np.array([series_index[name] for name in block.variables]),
        input_names=[s.name for s in inputs],
        input_lags=np.array([lag for _, lag in split_inputs], dtype=int),
        input_series=np.array([series_index[name] for name, _ in split_inputs], dtype=int),
        parameter_names=[s.name for s in params],
        parameter_index=np.array([parameter_index[s.name] for s in params], dtype=int),
        values=writer.add(f"values_{number}", arguments, right_hand_sides, cse=len(right_hand_sides) > 1),
        equations=equation_functions,
        jacobian=jacobian,
        jacobian_rows=np.array(rows, dtype=int),
        jacobian_cols=np.array(cols, dtype=int),
        positive=np.array([name in positive for name in block.variables]),
        expressions=tuple(right_hand_sides),
        jacobian_expressions=tuple(entries),
    )


#: Modules the generated source may import: what sympy's numpy printer uses, nothing else.
_MODULES = ("numpy", "functools", "math")


class _ModuleWriter:
    """Prints functions of positional arguments into one module source (``add`` returns the name)."""

    def __init__(self):
        self.parts: list[str] = []
        self.modules: set[str] = {"numpy"}

    def add(self, name: str, arguments, expressions, cse: bool) -> str:
        """``def name(a0, a1, ...)`` returning ``expressions`` (a tuple for a list, else one value)."""
        import sympy

        renamed = positional_symbols(arguments)
        names = {symbol: f"a{i}" for i, symbol in enumerate(renamed.values())}
        single = not isinstance(expressions, (list, tuple))
        body = [e.xreplace(renamed) for e in ([expressions] if single else expressions)]
        replacements = []
        if cse and body:  # temporaries t0, t1, ...: cse skips any name the expressions use
            replacements, body = sympy.cse(body, symbols=sympy.numbered_symbols("t"))
            names.update({symbol: f"t{k}" for k, (symbol, _) in enumerate(replacements)})
        printer = _printer(names)
        lines = [f"    {names[symbol]} = {printer.doprint(value)}" for symbol, value in replacements]
        printed = [printer.doprint(e) for e in body]
        if single:
            lines.append(f"    return {printed[0]}")
        else:
            lines.append(f"    return ({''.join(p + ', ' for p in printed)})")
        self.modules |= {module.split(".")[0] for module in printer.module_imports}
        signature = ", ".join(f"a{i}" for i in range(len(arguments)))
        self.parts.append(f"def {name}({signature}):\n" + "\n".join(lines) + "\n")
        return name

    def source(self) -> str:
        unknown = self.modules - set(_MODULES)
        if unknown:  # pragma: no cover - a sympy printer change; fail loudly rather than import anything
            raise RuntimeError(f"generated code would import {', '.join(sorted(unknown))}")
        header = '"""Generated by drypowder.compile from a model\'s validated expressions."""\n'
        imports = "".join(f"import {module}\n" for module in sorted(self.modules))
        return header + imports + "\n\n" + "\n\n".join(self.parts)


def _printer(names: dict):
    return _printer_class()({"fully_qualified_modules": True, "allow_unknown_functions": False}, names)


@functools.cache
def _printer_class():
    """sympy's numpy printer with our symbol names; built on first use, so that sympy stays unimported."""
    from sympy.printing.numpy import NumPyPrinter

    class Printer(NumPyPrinter):
        """Symbols print as the argument names; everything else as ``lambdify`` printed it (same numbers)."""

        def __init__(self, settings, names):
            super().__init__(settings)
            self.names = names

        def _print_Symbol(self, expr):
            return self.names[expr]

    return Printer


def load_functions(source: str) -> dict[str, object]:
    """Compile a generated module source (ours: printed above, or read back from our cache) into functions."""
    namespace: dict[str, object] = {"__name__": "drypowder_blocks"}
    exec(compile(source, "<drypowder generated blocks>", "exec"), namespace)  # noqa: S102 - our own printed code
    return namespace


def bind_functions(block: CompiledBlock, functions: dict[str, object]) -> None:
    """Replace a block's function names by the compiled functions."""
    block.values = functions[block.values]
    block.equations = [functions[name] for name in block.equations]
    if block.jacobian is not None:
        block.jacobian = functions[block.jacobian]
