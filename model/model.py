"""``Model``: a loaded model a user edits and runs; its results come back as a labelled DataFrame.

Compilation happens once per model and is shared by copies: parameters, exogenous values and starting
values are inputs to the compiled code, so changing them never recompiles. pandas is imported where a
DataFrame is made, not here: ``run_values`` (and the command line's ``run``) never needs it, and its
import is half of a short run's start-up.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import cache
from .accounting import TOLERANCE, Accounting, AccountingReport
from .compile import CompiledModel, compile_model
from .errors import AccountingError, DrypowderError, ModelError, UnknownNameError
from .graph import Block
from .modelfile import read_model_file
from .requirements import InputChecks, check_inputs
from .shipped import resolve
from .shocks import ParameterChange, Shock
from .solve import SolverOptions, simulate
from .spec import ModelSpec, check_shock, suggest

if TYPE_CHECKING:
    import pandas as pd


def load(name_or_path: str | Path) -> Model:
    """Load a shipped model by lowercase name (``"sim"``) or a model file by path.

    A model file seen before (same bytes, same engine) comes compiled from the cache (cache.py), with
    no parsing and no sympy; otherwise it is read, validated and compiled here, and stored for next time.
    """
    path = resolve(name_or_path)
    cached = cache.load(path)
    if cached is not None:
        spec, compiled, accounting, checks = cached
        model = Model(spec)
        model._compiled, model._accounting, model._input_checks = compiled, accounting, checks
        return model
    model = Model(read_model_file(path))
    try:
        compiled, accounting, checks = model.compiled, model.accounting, model.input_checks
    except DrypowderError:  # raised again, unchanged, by the run that needs the compiled model
        model._compiled = model._accounting = model._input_checks = None
        return model
    cache.store(path, model.spec, compiled, accounting, checks)
    return model


class Model:
    """A model with editable values: ``parameters``, ``exogenous`` (base values) and ``initial``."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.parameters = dict(spec.parameters)
        self.exogenous = dict(spec.exogenous)
        self.initial = dict(spec.initial)
        self._compiled: CompiledModel | None = None
        self._accounting: Accounting | None = None
        self._input_checks: InputChecks | None = None

    def __repr__(self) -> str:
        return (
            f"<Model {self.name}: {len(self.spec.equations)} equations, {len(self.parameters)} parameters, "
            f"{len(self.exogenous)} exogenous>"
        )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def compiled(self) -> CompiledModel:
        """The compiled blocks (built on first use, then reused)."""
        if self._compiled is None:
            self._compiled = compile_model(self.spec)
        return self._compiled

    @property
    def accounting(self) -> Accounting | None:
        """The model's matrices compiled for checking (None if it declares none)."""
        if self._accounting is None and self.spec.matrices:
            self._accounting = Accounting(self.spec.matrices, self.compiled.series, self.compiled.parameters)
        return self._accounting

    @property
    def input_checks(self) -> InputChecks | None:
        """The model's ``[[requires]]`` conditions compiled for checking inputs (None if it declares none)."""
        if self._input_checks is None and self.spec.requirements:
            self._input_checks = InputChecks(self.spec.requirements)
        return self._input_checks

    @property
    def blocks(self) -> list[Block]:
        """Blocks in solve order."""
        return [block.block for block in self.compiled.blocks]

    def copy(self) -> Model:
        """An independent copy of the values that shares the compiled code."""
        twin = copy.copy(self)
        twin._compiled = self.compiled  # compiled now if not yet, so that both share it
        twin._accounting = self.accounting
        twin._input_checks = self.input_checks
        twin.parameters, twin.exogenous, twin.initial = dict(self.parameters), dict(self.exogenous), dict(self.initial)
        return twin

    def set(self, **values: float) -> Model:
        """Set parameters or exogenous values by name; returns the model so calls can chain."""
        for name, value in values.items():
            self._set_one(name, value)
        return self

    def _set_one(self, name: str, value: float) -> None:
        value = _finite(value, name)
        if name in self.parameters:
            self.parameters[name] = value
        elif name in self.exogenous:
            self.exogenous[name] = value
        elif self.spec.kind_of(name) == "endogenous":
            raise ModelError(
                f"{name} is endogenous (computed by the equation at {self.spec.equation(name).where}); "
                f"set a parameter or exogenous value instead, or its starting value with initial['{name}']"
            )
        else:
            known = list(self.parameters) + list(self.exogenous)
            raise UnknownNameError(
                f"model {self.name} has no parameter or exogenous variable {name!r}.{suggest(name, known)} "
                f"Parameters: {', '.join(self.parameters) or 'none'}; exogenous: {', '.join(self.exogenous) or 'none'}"
            )

    def run(
        self,
        periods: int | None = None,
        shocks: list[Shock] | None = None,
        changes: list[ParameterChange] = (),
        method: str = "newton",
        tolerance: float = 1e-10,
        max_iterations: int | None = None,
        backend: str = "auto",
        check_accounting: bool = True,
        accounting_tolerance: float = TOLERANCE,
        origin: str = "",
    ) -> pd.DataFrame:
        """Simulate ``periods`` periods (default: the model's experiment); period 0 is the initial state.

        ``shocks`` defaults to the model's standard experiment; pass ``[]`` for none. ``changes`` set
        parameters from a period on. Every row and
        column of the model's matrices is checked in every period (``AccountingError`` if one does not
        add up); ``check_accounting=False`` skips that, for exploration. The inputs are checked against
        the model's ``[[requires]]`` first; ``origin`` says where they came from in that error.
        """
        values, imbalance = self.run_values(
            periods,
            shocks,
            changes,
            method=method,
            tolerance=tolerance,
            max_iterations=max_iterations,
            backend=backend,
            check_accounting=check_accounting,
            accounting_tolerance=accounting_tolerance,
            origin=origin,
        )
        results = self.results(values)
        if imbalance is not None:
            results.attrs["max_relative_imbalance"] = imbalance
        return results

    def run_values(
        self,
        periods: int | None = None,
        shocks: list[Shock] | None = None,
        changes: list[ParameterChange] = (),
        method: str = "newton",
        tolerance: float = 1e-10,
        max_iterations: int | None = None,
        backend: str = "auto",
        check_accounting: bool = True,
        accounting_tolerance: float = TOLERANCE,
        origin: str = "",
    ) -> tuple[np.ndarray, float | None]:
        """``run`` without the DataFrame: (``values[period, series]`` in ``compiled.series`` order, the largest
        relative accounting imbalance or None when unchecked). Same checks, same errors, no pandas."""
        periods = self.spec.experiment.periods if periods is None else periods
        if isinstance(periods, bool) or not isinstance(periods, (int, np.integer)) or periods < 1:
            raise ModelError(f"periods must be a whole number >= 1, got {periods!r}")
        shocks = list(self.spec.experiment.shocks) if shocks is None else list(shocks)
        options = self.solver_options(
            method=method, tolerance=tolerance, max_iterations=max_iterations, backend=backend
        )
        params, exogenous, initial = self.inputs(int(periods), shocks, changes)
        check_inputs(self, params, exogenous, initial, origin)
        values = simulate(self.compiled, params, exogenous, initial, options)[:, :, 0]
        if not (check_accounting and self.accounting is not None):
            return values, None
        report = self.accounting.check(values, params[..., 0], accounting_tolerance)
        if report.failures:
            raise AccountingError(f"model {self.name}: {report.message()}")
        return values, report.max_relative_imbalance

    def solver_options(self, **settings) -> SolverOptions:
        """Solver options with the model's own absolute tolerance (``[model] absolute_tolerance``) unless given."""
        settings.setdefault("absolute_tolerance", self.spec.absolute_tolerance)
        return SolverOptions(**settings)

    def _arrays(self, results: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        params = np.array([self.parameters[name] for name in self.compiled.parameters], dtype=float)
        return results[self.compiled.series].to_numpy(dtype=float), params

    def net_lending(self, results: pd.DataFrame) -> pd.DataFrame:
        """Each sector's net lending (+) or borrowing (-) per period, from the flow matrix; rows sum to 0."""
        if self.accounting is None or "transactions" not in self.accounting.matrices:  # cached: no parse
            raise ModelError(f"model {self.name} declares no [transactions] matrix, so it has no sector balances")
        import pandas as pd

        balances = pd.DataFrame(self.accounting.net_lending(*self._arrays(results)), index=results.index)
        return balances.iloc[1:]

    def payments(self, results: pd.DataFrame, period: int) -> list[tuple[str, str, str, float]]:
        """(transaction, payer, receiver, amount) in ``period``, for ``plot_flows``."""
        if self.accounting is None or "transactions" not in self.accounting.matrices:  # cached: no parse
            raise ModelError(f"model {self.name} declares no [transactions] matrix")
        return self.accounting.payments(*self._arrays(results), period)

    def check_accounting(self, results: pd.DataFrame, tolerance: float = TOLERANCE) -> AccountingReport:
        """Every row, column and stock-flow link of the matrices, in every period of ``results``."""
        if self.accounting is None:
            return AccountingReport([], tolerance)
        return self.accounting.check(*self._arrays(results), tolerance)

    def inputs(
        self, periods: int, shocks: list[Shock], changes: list[ParameterChange] = ()
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The solver's inputs for one run (batch size 1): parameters, exogenous paths, initial state.

        Parameters are one column, or one per period (``[period, parameter, 1]``) when a change starts
        after period 1.
        """
        names = self.compiled.parameters
        params = np.array([self.parameters[name] for name in names], dtype=float).reshape(len(names), 1)
        for change in changes:
            if change.name not in self.parameters:
                raise UnknownNameError(
                    f"model {self.name} has no parameter {change.name!r}.{suggest(change.name, self.parameters)}"
                )
        if any(change.start > 1 for change in changes):
            params = np.repeat(params[None], periods + 1, axis=0)
        for change in changes:
            if params.ndim == 3:
                params[change.start :, names.index(change.name)] = change.value
            else:  # every change starts in period 1: one column of constant parameters
                params[names.index(change.name)] = change.value
        names = list(self.exogenous)
        exogenous = np.tile(np.array([self.exogenous[n] for n in names], dtype=float), (periods + 1, 1))
        for shock in shocks:
            check_shock(self.spec, shock, "shock")
            shock.apply(exogenous[:, names.index(shock.variable)], periods)
        initial = np.array([self.initial.get(name, 0.0) for name in self.spec.endogenous], dtype=float)
        return params, exogenous[:, :, None], initial[:, None]

    def results(self, values: np.ndarray) -> pd.DataFrame:
        """Label one run's ``values[period, series]`` as a DataFrame (period x variable).

        The frame wraps ``values`` without a copy (the run's own array, which nothing else keeps), and
        its columns are one ``pd.Index`` built once: from a list, pandas rebuilds the Index on every
        run, which was a third of an unchecked 500-period SIM run (benchmarks/README.md).
        """
        import pandas as pd

        columns = getattr(self, "_columns", None)
        if columns is None:
            columns = self._columns = pd.Index(self.compiled.series)  # immutable: copies share it
        frame = pd.DataFrame(values, columns=columns, copy=False)
        frame.index.name = "period"
        frame.attrs["model"] = self.name
        if self.spec.calendar is not None:
            frame.attrs["dates"] = self.spec.calendar.labels(len(frame) - 1)
        return frame


def _finite(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"the value for {name} must be a number, got {value!r}") from None
    if not np.isfinite(number):
        raise ModelError(f"the value for {name} must be finite, got {value!r}")
    return number
