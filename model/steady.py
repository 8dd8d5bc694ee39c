"""Steady states solved directly from the stationary equations, with a stability verdict.

**The stationary system.** At a steady state every variable has the same value in every period, so
each lag ``Y(-k)`` can be replaced by ``Y``: ``x = g(x, x, ..., exogenous, parameters)``. That is a
square system, solved here by Newton's method on ``x - g(x)`` with the analytic Jacobian (sympy
derivatives of the parsed expressions, evaluated by ``ExpressionEvaluator``) -- no long simulation,
and no dependence on how fast the model converges.

**Why it is singular, and what pins it down.** In an SFC model that square system is singular by
exactly the hidden equation. A stock equation ``Hh = Hh(-1) + YD - Cd`` becomes ``0 = YD - Cd``: it
says the flows balance but fixes no level of ``Hh``. In SIM, ``Hs = Hs(-1) + Gd - Td`` becomes
``0 = Gd - Td``, which the other equations already imply (that is the hidden equation ``Hh = Hs``
one step removed), and nothing at all fixes ``Hs``. In PC, PCEX and LP there are two such free
directions: the central bank's ``Hs - Bcb`` and the government's ``V - Bs`` (``V - Bs - pbl*BLs`` in
LP) are each carried over unchanged from period to period. Which point of that line of stationary
solutions a run reaches is decided by history alone: the *stock identities* -- the balance-sheet rows
and columns that hold only because they held last period (``drypowder.accounting.identities``) --
keep the value they start with forever. So each stock identity ``S(x) = S(start)`` is appended to the
stationary equations; the stacked system is over-determined but consistent, and least squares
(scipy's Levenberg-Marquardt, then plain Gauss-Newton steps with ``numpy.linalg.lstsq`` down to
rounding error) finds the one point that a simulation from the model's initial state would reach.
``S(start)`` is taken after the first period of a run from the initial state with the new exogenous
values: that is ``S`` at period 0 when the initial state satisfies the equations, and from period 1
on it is exactly conserved either way. A minimum-norm step would also give *a* solution, but the
wrong one: in SIM it would leave ``Hs`` where it started instead of moving it with ``Hh``.

If the stacked Jacobian is still singular at the solution (a model without matrices, or a truly
redundant equation), the steady state is not unique and ``SingularBlockError`` names the free
variables. If the residual cannot be driven to zero, there is no steady state near the guess
(``x = x(-1) + 1`` has none at all) and ``ConvergenceError`` names the worst equation.

**Stability.** Near the steady state one period maps the lagged values to the current ones:
``(I - G0) dx_t = sum_k G_k dx_{t-k}``, with ``G_k`` the derivative of ``g`` with respect to the
lag-``k`` values. The state holds each endogenous variable at the lags it is used at; its companion
matrix's eigenvalues say how deviations die out. Each independent stock identity contributes an
eigenvalue of exactly 1 (a deviation in that direction is kept, not corrected): those are counted as
unit roots, and the model is stable when every other eigenvalue has modulus below 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.optimize
import sympy

from .accounting import identities
from .errors import ConvergenceError, ModelError, SingularBlockError, SolveError, UnknownNameError
from .evaluate import ExpressionEvaluator
from .model import Model
from .parse import split_symbol
from .solve import simulate
from .spec import suggest

TOLERANCE = 1e-10  # largest relative residual |a - b| / max(1, |a|, |b|) a steady state may leave
UNIT_ROOT = 1e-7  # an eigenvalue this close to 1 is a unit root
SINGULAR = 1e-10  # smallest / largest singular value of the scaled Jacobian below which it is singular
WARM_UP = 50  # periods simulated for a starting guess when the initial state is all zero
MAX_EVALUATIONS = 1000  # Levenberg-Marquardt evaluations before a steady state is declared not found


@dataclass
class SteadyState:
    """A steady state and how the model behaves near it."""

    values: pd.Series  # every series (endogenous then exogenous), at the steady state
    eigenvalues: np.ndarray  # of the linearised period map, sorted by modulus, descending
    unit_roots: int  # the accounting's own modes: 1 where a stock identity's gap is kept, 1 + r where it grows
    stable: bool  # every other eigenvalue has modulus < 1
    verdict: str  # one readable sentence
    residual: float = 0.0  # the largest relative residual of the stationary equations, as solved


def steady_state(
    model: Model, exogenous: dict[str, float] | None = None, guess: dict[str, float] | None = None
) -> SteadyState:
    """The steady state a run from ``model.initial`` reaches under constant ``exogenous`` values.

    ``exogenous`` overrides ``model.exogenous`` (from period 1 on); ``guess`` gives starting values
    for Newton (default: the initial state, or a short run when that is all zero).
    """
    endogenous = model.spec.endogenous
    exo = dict(model.exogenous)
    exo.update(_checked(model, exogenous or {}, model.exogenous, "exogenous", "an exogenous variable"))
    guess = _checked(model, guess or {}, endogenous, "guess", "an endogenous variable")
    stationary = _Stationary(model, _stock_identities(model))
    exo_values = np.array([exo[name] for name in model.exogenous], dtype=float)

    initial = np.array([model.initial.get(name, 0.0) for name in endogenous], dtype=float)
    warm_up = WARM_UP if not guess and not initial.any() else 1
    run = _run(model, exo_values, warm_up)
    first = run[1] if run is not None else np.concatenate([initial, list(model.exogenous.values())])
    start = run[-1, : len(endogenous)] if run is not None and warm_up > 1 else initial.copy()
    for name, value in guess.items():
        start[endogenous.index(name)] = value

    stationary.constants = stationary.identity_values(first)
    x, residual = stationary.solve(start, exo_values, exo)
    eigenvalues, modes = stationary.eigenvalues(x, exo_values)
    eigenvalues = eigenvalues[np.argsort(-np.abs(eigenvalues), kind="stable")]
    accounting = _matching(eigenvalues, modes)
    accounting |= np.abs(eigenvalues - 1) < UNIT_ROOT  # kept gaps, also where the modes could not be split off
    others = eigenvalues[~accounting]
    stable = bool(np.all(np.abs(others) < 1))
    values = pd.Series(np.concatenate([x, exo_values]), index=model.compiled.series, name="steady state")
    verdict = _verdict(others, eigenvalues[accounting], stable)
    return SteadyState(values, eigenvalues, int(accounting.sum()), stable, verdict, residual)


def _matching(eigenvalues: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """Which eigenvalues are the accounting modes (as a multiset: each mode takes its nearest one)."""
    taken = np.zeros(len(eigenvalues), dtype=bool)
    for mode in modes:
        distance = np.where(taken, np.inf, np.abs(eigenvalues - mode))
        nearest = int(np.argmin(distance)) if len(eigenvalues) else -1
        if nearest >= 0 and distance[nearest] < 1e-6 * max(1.0, abs(mode)):
            taken[nearest] = True
    return taken


def _checked(model: Model, values: dict[str, float], allowed, argument: str, what: str) -> dict[str, float]:
    """``values`` as floats, with a clear error for a name that is not ``what``."""
    out = {}
    for name, value in values.items():
        if name not in allowed:
            kind = {"parameter": "a parameter", "exogenous": "exogenous", "endogenous": "endogenous"}
            raise UnknownNameError(
                f"{argument}= names {name!r}, which is {kind.get(model.spec.kind_of(name), 'not a name')} in model "
                f"{model.name}, not {what}.{suggest(name, allowed)}"
            )
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            out[name] = np.nan
        if not np.isfinite(out[name]):
            raise ModelError(f"{argument}= gives {name} = {value!r}; it must be a finite number")
    return out


def _stock_identities(model: Model) -> list:
    """The balance-sheet checks that hold only through history (``accounting.identities``).

    Found from the model's own initial state; if that state breaks a balance-sheet check (a run from it
    keeps the gap, say Hh - Hs = 10, and fails the accounting check), from an empty one instead, so that
    the gap is still known to be kept.
    """
    statuses = identities(model)
    if any(s.status == "fails" and s.check.first_period == 0 for s in statuses):
        empty = model.copy()
        empty.initial = {}
        statuses = identities(empty)
    return [s for s in statuses if s.status == "stock identity"]


def _run(model: Model, exo_values: np.ndarray, periods: int) -> np.ndarray | None:
    """``values[period, series]`` of a run from the initial state with ``exo_values`` from period 1."""
    params, exogenous, initial = model.inputs(periods, [])
    exogenous[1:, :, 0] = exo_values
    try:
        return simulate(model.compiled, params, exogenous, initial)[:, :, 0]
    except SolveError:
        return None


class _Stationary:
    """The equations with every lag set to the current value, the stock identities, and derivatives.

    Rows 0..n-1 are the equations ``x_i = g_i``; rows n.. are the stock identities ``S_k = constant``.
    Each derivative entry is ``(row, column, lag)``: d(row's right side)/d(column's variable at lag).
    """

    def __init__(self, model: Model, stock_identities):
        self.model = model
        self.n = model.compiled.n_endogenous
        self.series = model.compiled.series
        self.parameters = np.array([model.parameters[name] for name in model.compiled.parameters], dtype=float)
        equations = model.spec.equations
        self.labels = [f"the equation for {e.name} ({e.where})" for e in equations] + [
            f"the stock identity {s.equation} ({s.check.label})" for s in stock_identities
        ]
        expressions = [e.expression for e in equations] + [s.expression for s in stock_identities]
        position = {name: j for j, name in enumerate(model.spec.endogenous)}
        derivatives, entries = [], []
        for row, expression in enumerate(expressions):
            for symbol in sorted(expression.free_symbols, key=lambda s: s.name):
                name, lag = split_symbol(symbol)
                if name in position:
                    derivatives.append(sympy.diff(expression, symbol))
                    entries.append((row, position[name], lag))
        self.rows, self.columns, self.lags = np.array(entries, dtype=int).reshape(-1, 3).T
        self.size = len(expressions)
        self.evaluator = ExpressionEvaluator(expressions + derivatives, self.series, model.compiled.parameters)
        self.constants = np.zeros(len(stock_identities))

    def evaluate(self, x: np.ndarray, exo_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Right sides (and identity values), and every derivative entry, at the stationary point x."""
        out = self.evaluator(np.concatenate([x, exo_values])[None, :], self.parameters)[:, 0]
        return out[: self.size], out[self.size :]

    def identity_values(self, state: np.ndarray) -> np.ndarray:
        """Each stock identity's value at a state ``[series]`` (as if it repeated forever)."""
        return self.evaluate(state[: self.n], state[self.n :])[0][self.n :]

    def system(self, x: np.ndarray, exo_values: np.ndarray):
        """The stacked residual, its analytic Jacobian, and both sides of each row (for relative sizes)."""
        right, derivatives = self.evaluate(x, exo_values)
        left = np.concatenate([x, right[self.n :]])
        right = np.concatenate([right[: self.n], self.constants])
        jacobian = np.zeros((self.size, self.n))
        np.add.at(jacobian, (self.rows, self.columns), np.where(self.rows < self.n, -derivatives, derivatives))
        jacobian[np.arange(self.n), np.arange(self.n)] += 1.0
        return left - right, jacobian, left, right

    def solve(self, start: np.ndarray, exo_values: np.ndarray, exo: dict[str, float]) -> tuple[np.ndarray, float]:
        """The steady state and its largest relative residual; raises if there is none, or many."""
        x = self._newton(start, exo_values)
        value, jacobian, left, right = self.system(x, exo_values)
        size = np.maximum(1.0, np.maximum(np.abs(left), np.abs(right)))
        relative = np.where(np.isfinite(value), np.abs(value) / size, np.inf)
        scaled = jacobian * np.maximum(1.0, np.abs(x)) / size[:, None]  # rows and columns of comparable size
        finite = bool(np.all(np.isfinite(scaled)))
        _, sigma, directions = np.linalg.svd(scaled) if finite else (None, np.zeros(1), None)
        rank = int(np.sum(sigma > SINGULAR * sigma[0])) if sigma[0] > 0 else 0
        singular = finite and rank < self.n
        note = f" The stationary Jacobian is singular there (rank {rank} of {self.n})." if singular else ""
        where = _given(exo)
        if relative.max() > TOLERANCE:
            worst = int(np.argmax(relative))
            raise ConvergenceError(
                f"model {self.model.name}: no steady state found{where}: the stationary equations (every lag "
                f"set to the current value) did not converge; the largest residual is {value[worst]:.6g} (relative "
                f"{relative[worst]:.3g}, tolerance {TOLERANCE:g}) in {self.labels[worst]}.{note} Try another "
                "starting point, e.g. guess= the last row of a long run, or check that the model settles at all "
                "(a variable that grows every period, like x = x(-1) + 1, has no steady state)"
            )
        if singular:
            weight = np.abs(directions[rank:]).max(axis=0)
            free = [name for name, w in zip(self.model.spec.endogenous, weight) if w > 0.1 * weight.max()]
            raise SingularBlockError(
                f"model {self.model.name}: the steady state{where} is not unique: the stationary equations leave "
                f"{', '.join(free)} free.{note} In an SFC model the levels of stocks are pinned by the stock "
                "identities of the balance sheet (they keep their initial value); declare [balance_sheet] and "
                "[transactions] so that they can be found, or look for a redundant equation"
            )
        return x, float(relative.max())

    def _newton(self, start: np.ndarray, exo_values: np.ndarray) -> np.ndarray:
        """Levenberg-Marquardt from ``start`` (robust far away), then plain Gauss-Newton to rounding error."""
        x = start
        value, jacobian = self.system(x, exo_values)[:2]
        if np.all(np.isfinite(value)):
            with np.errstate(all="ignore"):
                found = scipy.optimize.least_squares(
                    lambda y: self.system(y, exo_values)[0],
                    start,
                    jac=lambda y: self.system(y, exo_values)[1],
                    method="lm",
                    xtol=1e-15,
                    ftol=1e-15,
                    gtol=1e-15,
                    x_scale="jac",
                    # scipy's default for "lm" is 100 x the number of unknowns; where a steady state exists
                    # LM gets there in far fewer, so a cap makes "none found" quick (DRYPOWDER: 2 min -> seconds)
                    max_nfev=MAX_EVALUATIONS,
                )
            if np.all(np.isfinite(found.fun)):
                x = found.x
                value, jacobian = self.system(x, exo_values)[:2]
        for _ in range(10):  # quadratic on a consistent over-determined system: a few steps reach rounding
            if not np.all(np.isfinite(jacobian)):
                break
            trial = x + np.linalg.lstsq(jacobian, -value, rcond=None)[0]
            trial_value, trial_jacobian = self.system(trial, exo_values)[:2]
            if not np.linalg.norm(trial_value) < np.linalg.norm(value):
                break
            x, value, jacobian = trial, trial_value, trial_jacobian
        return x

    def eigenvalues(self, x: np.ndarray, exo_values: np.ndarray) -> np.ndarray:
        """Eigenvalues of the linearised period map at ``x``, through its companion matrix."""
        _, derivatives = self.evaluate(x, exo_values)
        equation = self.rows < self.n  # the stock identities play no part in the dynamics
        rows, columns, lags = self.rows[equation], self.columns[equation], self.lags[equation]
        depth = np.zeros(self.n, dtype=int)  # the deepest lag at which each variable is used
        np.maximum.at(depth, columns, lags)
        offset = np.concatenate([[0], np.cumsum(depth)])  # state (j, m) = x_j(t - m) sits at offset[j] + m
        size = int(offset[-1])
        if size == 0:
            return np.zeros(0)
        current = np.eye(self.n)
        lagged = np.zeros((self.n, size))
        for row, column, lag, value in zip(rows, columns, lags, derivatives[equation]):
            if lag == 0:
                current[row, column] -= value
            else:  # x_j(t - lag) is the state x_j(t-1 - (lag-1)) of the previous period
                lagged[row, offset[column] + lag - 1] += value
        try:
            step = np.linalg.solve(current, lagged)
        except np.linalg.LinAlgError:
            step = None
        if step is None or not np.all(np.isfinite(step)):
            raise SingularBlockError(
                f"model {self.model.name}: the equations of one period are singular at the steady state, so "
                "the period map cannot be linearised there (check for a redundant equation)"
            )
        companion = np.zeros((size, size))
        for j in np.flatnonzero(depth):
            companion[offset[j]] = step[j]
            for m in range(1, depth[j]):
                companion[offset[j] + m, offset[j] + m - 1] = 1.0
        return np.linalg.eigvals(companion), self._accounting_modes(derivatives, step, companion)

    def _accounting_modes(self, derivatives, step, companion) -> np.ndarray:
        """Eigenvalues of the period map restricted to the stock identities' directions.

        Each identity S_k is (near the steady state) a linear function of this period's values, so
        ``G = grad S @ step`` gives it from last period's state. Identities evolve among themselves --
        the span of G's rows is invariant -- and the map on that span has eigenvalues of its own: 1 where
        a gap is kept, 1 + r where it earns interest (BMW's Mh - Ms). Those are the accounting's modes,
        directions no consistent run takes. Empty if the span is not invariant.
        """
        identity = self.rows >= self.n
        if not identity.any():
            return np.zeros(0)
        gradient = np.zeros((self.size - self.n, self.n))
        for row, column, lag, value in zip(
            self.rows[identity], self.columns[identity], self.lags[identity], derivatives[identity]
        ):
            if lag == 0:
                gradient[row - self.n, column] += value
        rows = gradient @ step
        if not np.any(rows):
            return np.zeros(0)
        _, sigma, vt = np.linalg.svd(rows, full_matrices=False)
        basis = vt[sigma > 1e-9 * sigma[0]]
        restricted = basis @ companion @ np.linalg.pinv(basis)
        mismatch = np.linalg.norm(basis @ companion - restricted @ basis)
        if mismatch > 1e-8 * max(1.0, np.linalg.norm(basis @ companion)):
            return np.zeros(0)
        return np.linalg.eigvals(restricted)


def _given(exo: dict[str, float]) -> str:
    return " with " + ", ".join(f"{name}={value:g}" for name, value in exo.items()) if exo else ""


def _verdict(others: np.ndarray, accounting: np.ndarray, stable: bool) -> str:
    """One sentence: stable or not, the largest modulus, and the accounting's own modes set aside."""
    units = ""
    if accounting.size:
        unit = int(np.sum(np.abs(accounting - 1) < UNIT_ROOT))
        growing = [f"{abs(m):.6g}" for m in accounting if abs(m - 1) >= UNIT_ROOT]
        plural = "s" if unit > 1 else ""
        units = f" (besides {unit} unit root{plural} kept by the accounting identities" if unit else " (besides"
        if growing:
            units += (
                f"{',' if unit else ''} and the mode{'s' if len(growing) > 1 else ''} {', '.join(growing)} of a gap in "
                "a stock identity, which rounding error alone can open: see the accounting check"
            )
        units += ")"
    if others.size == 0:
        return f"stable: no deviation from the steady state lasts beyond the period it happens in{units}"
    largest = others[np.argmax(np.abs(others))]
    modulus = abs(largest)
    if stable:
        return f"stable: largest eigenvalue modulus {modulus:.6g}{units}"
    shown = f"{largest.real:.6g}" if abs(largest.imag) < 1e-12 else f"{largest:.6g}"
    return (
        f"unstable: eigenvalue {shown} has modulus {modulus:.6g} >= 1, so a deviation from the steady state "
        f"grows (or never dies out) period by period{units}"
    )
