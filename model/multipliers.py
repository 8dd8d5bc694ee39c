"""Multipliers as first-class output: how much a variable moves per unit of an exogenous change.

The experiment is a permanent step of ``size`` in the exogenous variable from period ``start``, run
beside the same baseline without it, in one batch. The response in each period, divided by the size,
is the dynamic multiplier: its first value is the impact multiplier, the mean over the first h periods
is the cumulative multiplier (sum of responses over sum of the extra spending), and the long-run
multiplier compares the two steady states directly (``drypowder.steady``), not a long simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import AccountingError, ModelError, UnknownNameError
from .model import Model
from .requirements import check_inputs
from .shocks import Shock
from .solve import simulate
from .spec import suggest

if TYPE_CHECKING:  # pandas is imported where a frame is made: importing drypowder does not load it
    import pandas as pd


@dataclass
class Multipliers:
    """Responses of ``on`` variables to a unit step in ``of``, from period ``start``."""

    of: str
    start: int
    size: float
    horizon: int
    response: pd.DataFrame  # rows: periods after the shock (0 = impact); columns: the ``on`` variables
    long_run: dict[str, float | None]

    @property
    def impact(self) -> pd.Series:
        return self.response.iloc[0]

    @property
    def cumulative(self) -> pd.Series:
        """Sum of the responses over the horizon divided by the sum of the shock (a step: its length)."""
        return self.response.mean()

    def table(self) -> pd.DataFrame:
        """impact, cumulative over the horizon and long run, one row per variable."""
        import pandas as pd

        return pd.DataFrame(
            {
                "impact": self.impact,
                f"cumulative ({self.horizon} periods)": self.cumulative,
                "long run": pd.Series(self.long_run, dtype=float),
            }
        )


def multipliers(
    model: Model,
    of: str,
    on: list[str],
    horizon: int = 20,
    start: int = 1,
    size: float | None = None,
    shocks: list[Shock] | None = None,
    long_run: bool = True,
) -> Multipliers:
    """Dynamic, cumulative and long-run multipliers of ``on`` with respect to the exogenous ``of``.

    The baseline is the model at rest (``shocks=[]``) unless ``shocks`` are given. ``size`` defaults to
    1% of the variable's base value (1 if that is 0); a linear model gives the same answer for any size.
    """
    _check_names(model, of, on)
    if horizon < 1 or start < 1:
        raise ModelError(f"horizon and start must be at least 1, got horizon={horizon}, start={start}")
    base = model.exogenous[of]
    size = float(size) if size is not None else (0.01 * abs(base) if base != 0 else 1.0)
    if size == 0 or not np.isfinite(size):
        raise ModelError(f"the size of the step in {of} must be a finite non-zero number, got {size}")
    shocks = [] if shocks is None else list(shocks)
    periods = start + horizon - 1
    params, exogenous, initial = model.inputs(periods, shocks)
    stepped = exogenous.copy()
    Shock(of, start, add=size).apply(stepped[:, list(model.exogenous).index(of), 0], periods)
    # the baseline and the stepped run as two members of one batch; both are checked like any run
    params = np.repeat(params, 2, axis=-1)
    check_inputs(model, params, np.concatenate([exogenous, stepped], axis=2), np.repeat(initial, 2, axis=1))
    values = simulate(
        model.compiled,
        params,
        np.concatenate([exogenous, stepped], axis=2),
        np.repeat(initial, 2, axis=1),
        model.solver_options(),  # the default 1e-10: Newton and its polishing step land far below it
    )
    if model.accounting is not None:
        report = model.accounting.check(values, params)
        if report.failures:
            raise AccountingError(f"model {model.name}: {report.message()}")
    columns = [model.compiled.series.index(name) for name in on]
    response = (values[start:, columns, 1] - values[start:, columns, 0]) / size
    import pandas as pd

    frame = pd.DataFrame(response, columns=on, index=pd.RangeIndex(horizon, name="periods after the change"))
    return Multipliers(of, start, size, horizon, frame, _long_run(model, of, on, size) if long_run else {})


def _long_run(model: Model, of: str, on: list[str], size: float) -> dict[str, float | None]:
    """(steady state with of + size - steady state) / size, or None where no steady state is found."""
    from .errors import SolveError
    from .steady import steady_state

    try:
        before = steady_state(model)
        after = steady_state(model, exogenous={of: model.exogenous[of] + size})
    except SolveError:
        return {name: None for name in on}
    return {name: float((after.values[name] - before.values[name]) / size) for name in on}


def _check_names(model: Model, of: str, on: list[str]) -> None:
    kind = model.spec.kind_of(of)
    if kind != "exogenous":
        if kind is None:
            raise UnknownNameError(
                f"model {model.name} has no exogenous variable {of!r}.{suggest(of, model.exogenous)} "
                f"Its exogenous variables: {', '.join(model.exogenous) or 'none'}"
            )
        raise ModelError(
            f"{of} is {kind}; multipliers are taken with respect to exogenous variables "
            f"({', '.join(model.exogenous) or 'none in this model'})"
        )
    for name in on:
        if name not in model.compiled.series:
            raise UnknownNameError(
                f"model {model.name} has no variable {name!r}.{suggest(name, model.compiled.series)}"
            )
