"""Solve a compiled model period by period, every block for the whole batch at once.

Recursive blocks are evaluated directly. Simultaneous blocks are solved by Newton's method with the
analytic Jacobian, a damped step (backtracking on the residual norm) and positive variables solved in
their logarithm, so a convex demand near its floor cannot throw a step across the barrier into NaN.
Gauss-Seidel and Broyden are offered as alternatives. Convergence is judged on the residual of each
equation, relative to the size of its two sides, never on the size of the last step.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .compile import CompiledBlock, CompiledModel
from .errors import ConvergenceError, ModelError, NonFiniteError, SingularBlockError, SolveError

METHODS = ("newton", "gauss-seidel", "broyden")
BACKENDS = ("auto", "numba", "numpy")
_ROUNDOFF = 8 * np.finfo(float).eps


@dataclass(frozen=True)
class SolverOptions:
    """How simultaneous blocks are solved and when they count as solved.

    An equation ``x = g`` is solved when ``|x - g| <= tolerance * max(|x|, |g|) + absolute_tolerance``.
    """

    method: str = "newton"
    tolerance: float = 1e-10
    absolute_tolerance: float = 1e-12
    max_iterations: int | None = None  # default: 50 for Newton, 200 for Broyden, 1000 for Gauss-Seidel
    backend: str = "auto"  # numba (compiled period loop, Newton only), numpy, or auto: numba when it pays
    threads: int | None = None  # a batch's machine-code threads; None: every core this process may use

    def __post_init__(self):
        if self.method not in METHODS:
            raise ModelError(f"unknown solver method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.backend not in BACKENDS:
            raise ModelError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend == "numba" and self.method != "newton":
            raise ModelError(f"the numba backend solves with Newton only; use --backend numpy with {self.method}")
        if self.max_iterations is None:
            default = {"newton": 50, "broyden": 200, "gauss-seidel": 1000}[self.method]
            object.__setattr__(self, "max_iterations", default)
        if not (0 < self.tolerance < 1):
            raise ModelError(f"the tolerance must be between 0 and 1, got {self.tolerance!r}")
        if self.max_iterations < 1:
            raise ModelError(f"max_iterations must be at least 1, got {self.max_iterations!r}")
        if self.threads is not None:
            if isinstance(self.threads, bool) or not isinstance(self.threads, numbers.Integral) or self.threads < 1:
                raise ModelError(f"threads must be a whole number, at least 1 (None: every core), got {self.threads!r}")
            object.__setattr__(self, "threads", int(self.threads))


def uses_machine_code(model: CompiledModel, options: SolverOptions, work: int) -> bool:
    """Whether ``simulate`` solves ``work`` (periods x batch members) in machine code, on these options."""
    if options.method != "newton" or options.backend == "numpy":
        return False
    from . import jit

    return options.backend == "numba" or jit.worth_compiling(model, work)


def simulate(
    model: CompiledModel,
    params: np.ndarray,
    exogenous: np.ndarray,
    initial: np.ndarray,
    options: SolverOptions = SolverOptions(),
    diagnose: bool = True,
) -> np.ndarray:
    """Run periods 1..T; return ``values[period, series, batch]`` with period 0 the initial state.

    ``exogenous``: (T + 1, n_exogenous, K); ``initial``: (n_endogenous, K); ``params``: (n_parameters, K),
    or (T + 1, n_parameters, K) when a scenario changes a parameter from some period on.

    When the machine code fails, the numpy path solves the run again to say where and why. With
    ``diagnose=False`` it raises a bare ``SolveError`` instead: a sweep that keeps its failed draws looks
    for them piece by piece, and a diagnosis of each whole piece would cost more than the pieces.
    """
    n_endogenous = model.n_endogenous
    periods = exogenous.shape[0] - 1
    batch = exogenous.shape[2]
    if uses_machine_code(model, options, periods * batch):
        from . import jit

        if not jit.AVAILABLE:
            raise ModelError("the numba backend needs numba: pip install numba (or use --backend numpy)")
        values = jit.simulate_compiled(model, params, exogenous, initial, options)
        if values is not None:
            return values
        if not diagnose:
            raise SolveError("a period of the run failed in the compiled loop (not diagnosed)")
        # a period failed: solve again below, where the failure is diagnosed and explained
    varying = params.ndim == 3
    pad = model.max_lag
    values = starting_values(model, exogenous, initial)
    solver = _BlockSolver(options, batch)
    parameter_rows = None if varying else [params[block.parameter_index] for block in model.blocks]
    with np.errstate(all="ignore"):  # a NaN or infinity is reported by the solver, with its equation
        for period in range(1, periods + 1):
            row = pad + period
            values[row, :n_endogenous] = values[row - 1, :n_endogenous]  # last period's values: the first guess
            if varying:
                parameter_rows = [params[period, block.parameter_index] for block in model.blocks]
            for number, (block, p) in enumerate(zip(model.blocks, parameter_rows)):
                inputs = values[row - block.input_lags, block.input_series]
                solver.solve(block, values[row], inputs, p, period, number)
    return values[pad:]


def starting_values(model: CompiledModel, exogenous: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """``values[max_lag + period, series, member]`` as the period loop starts, on either back end: the
    initial state in period 0 and in the rows before it that lags read, the exogenous paths in every
    period (before period 0: period 0's), the endogenous series of later periods still to be solved."""
    pad, n_endogenous = model.max_lag, model.n_endogenous
    values = np.empty((exogenous.shape[0] + pad, len(model.series), exogenous.shape[2]))
    values[: pad + 1, :n_endogenous] = initial
    values[:pad, n_endogenous:] = exogenous[0]
    values[pad:, n_endogenous:] = exogenous
    return values


class _BlockSolver:
    """Solves one block in place in ``current[series, batch]`` with the chosen method."""

    def __init__(self, options: SolverOptions, batch: int):
        self.options = options
        self.batch = batch

    def solve(self, block: CompiledBlock, current, inputs, params, period: int, number: int) -> None:
        context = (block, period, number, inputs)
        if not block.block.simultaneous:
            value = block.values(current[block.targets[0]], *inputs, *params)[0]
            value = np.broadcast_to(value, (self.batch,))
            if not np.all(np.isfinite(value)):
                raise _non_finite(context, 0, value)
            current[block.targets[0]] = value
            return
        x = current[block.targets].copy()
        method = {"newton": self._newton, "gauss-seidel": self._gauss_seidel, "broyden": self._broyden}
        current[block.targets] = method[self.options.method](x, block, inputs, params, context)

    # --- shared pieces ------------------------------------------------------------------------------

    def _rhs(self, block, x, inputs, params) -> np.ndarray:
        out = np.empty((block.size, self.batch))
        for i, value in enumerate(block.values(*x, *inputs, *params)):
            out[i] = value
        return out

    def _jacobian(self, block, x, inputs, params) -> np.ndarray:
        """d(x - g)/dx as (batch, m, m)."""
        jac = np.zeros((self.batch, block.size, block.size))
        entries = block.jacobian(*x, *inputs, *params)
        if entries:
            jac[:, block.jacobian_rows, block.jacobian_cols] = np.array(
                [np.broadcast_to(e, (self.batch,)) for e in entries]
            ).T
        return np.eye(block.size) - jac

    def _tolerance(self, x, g):
        return self.options.tolerance * np.maximum(np.abs(x), np.abs(g)) + self.options.absolute_tolerance

    def _check_finite(self, g, context):
        bad = ~np.isfinite(g)
        if bad.any():
            equation, member = np.argwhere(bad)[0]
            raise _non_finite(context, equation, g[equation], member)

    def _converged(self, x, g) -> np.ndarray:
        """Per batch member: has every equation of the block met the tolerance?"""
        return np.all(np.abs(x - g) <= self._tolerance(x, g), axis=0)

    def _not_converged(self, x, g, context, iterations: int, method: str):
        block, period, number, _ = context
        scale = np.maximum(np.maximum(np.abs(x), np.abs(g)), 1e-300)
        relative = np.abs(x - g) / scale
        i, member = np.unravel_index(np.argmax(relative), relative.shape)
        names = ", ".join(block.block.variables)
        advice = (
            "Try --method newton, better starting values in [initial], or declare variables that must stay "
            "positive under [model] positive"
            if method != "newton"
            else "Check the starting values in [initial] and the parameters; declare variables that must "
            "stay positive under [model] positive, or raise the iteration limit"
        )
        return ConvergenceError(
            f"period {period}{_member(member, self.batch)}: block {number + 1} ({names}) did not converge in "
            f"{iterations} {method} iterations; the largest relative residual is {relative[i, member]:.3g} in the "
            f"equation for {block.block.variables[i]} (tolerance {self.options.tolerance:g}). {advice}"
        )

    # --- the methods ----------------------------------------------------------------------------------

    def _newton(self, x, block, inputs, params, context):
        logs = block.positive
        if logs.any() and np.any(x[logs] <= 0):
            # a positive variable needs a positive first guess; start it from 1 if the last period has none
            x[logs] = np.where(x[logs] > 0, x[logs], 1.0)
        g = self._rhs(block, x, inputs, params)
        self._check_finite(g, context)
        done = np.zeros(self.batch, dtype=bool)  # members stop where they would stop if run alone
        met = np.zeros(self.batch, dtype=bool)  # met the tolerance at the previous iterate
        for _ in range(self.options.max_iterations):
            residual = x - g
            # Stop one Newton step after the tolerance is first met (unless already exact to rounding):
            # Newton is quadratic there, so that step takes the residual to rounding error. Stopping at the
            # tolerance would leave up to 1e-10 in every period, and it builds up in the stocks -- it
            # compounds where the hidden equation's gap earns interest (BMW, OPENFLEX).
            exact = np.all(np.abs(residual) <= _ROUNDOFF * np.maximum(np.abs(x), np.abs(g)), axis=0)
            converged = self._converged(x, g)
            done |= converged & (exact | met)
            met = converged
            if done.all():
                return x
            jac = self._jacobian(block, x, inputs, params)
            if logs.any():
                jac[:, :, logs] *= x[logs].T[:, None, :]  # chain rule: dx/dlog(x) = x
            step = _linear_solve(jac, -residual, context, self.batch)
            step[:, done] = 0.0
            scale = np.maximum(np.maximum(np.abs(x), np.abs(g)), 1.0)
            norm = np.sqrt(np.sum((residual / scale) ** 2, axis=0))
            x, g = self._line_search(x, step, norm, scale, ~done, block, inputs, params)
        if np.all(done | self._converged(x, g)):
            return x
        raise self._not_converged(x, g, context, self.options.max_iterations, "Newton")

    def _line_search(self, x, step, norm, scale, active, block, inputs, params):
        """Halve the step, member by member, until the residual norm falls (Armijo test)."""
        logs = block.positive
        damping = np.ones(self.batch)
        pending = active.copy()
        best_x, best_g = x, None
        for _ in range(40):
            trial = x + damping * step
            if logs.any():
                trial[logs] = x[logs] * np.exp(damping * step[logs])
            with np.errstate(all="ignore"):
                g = self._rhs(block, trial, inputs, params)
            new_norm = np.sqrt(np.sum(((trial - g) / scale) ** 2, axis=0))
            accept = np.isfinite(new_norm) & (new_norm <= (1 - 1e-4 * damping) * norm)
            newly = pending & accept
            if best_g is None:
                best_x, best_g = trial.copy(), g.copy()
            best_x[:, newly], best_g[:, newly] = trial[:, newly], g[:, newly]
            pending &= ~accept
            if not pending.any():
                return best_x, best_g
            damping = np.where(pending, damping / 2, damping)
        # No decrease anywhere along the step: keep the smallest finite trial so the iteration count
        # (not a silent stall) decides, and let the convergence test report it.
        finite = np.all(np.isfinite(g), axis=0) & pending
        best_x[:, finite], best_g[:, finite] = trial[:, finite], g[:, finite]
        bad = pending & ~finite
        if bad.any():
            best_x[:, bad] = x[:, bad]
            best_g[:, bad] = self._rhs(block, x, inputs, params)[:, bad]
        return best_x, best_g

    def _gauss_seidel(self, x, block, inputs, params, context):
        done = np.zeros(self.batch, dtype=bool)
        for _ in range(self.options.max_iterations):
            frozen = x[:, done]
            for i in block.block.sweep_order:
                x[i] = block.equations[i](*x, *inputs, *params)
            x[:, done] = frozen
            g = self._rhs(block, x, inputs, params)
            self._check_finite(g, context)
            done |= self._converged(x, g)
            if done.all():
                return x
        raise self._not_converged(x, g, context, self.options.max_iterations, "Gauss-Seidel")

    def _broyden(self, x, block, inputs, params, context):
        """Good Broyden: the analytic Jacobian once, then rank-one updates of its inverse."""
        g = self._rhs(block, x, inputs, params)
        self._check_finite(g, context)
        residual = (x - g).T  # (batch, m)
        inverse = _linear_solve(
            self._jacobian(block, x, inputs, params),
            np.broadcast_to(np.eye(block.size), (self.batch, block.size, block.size)),
            context,
            self.batch,
            matrix=True,
        )
        done = np.zeros(self.batch, dtype=bool)
        for _ in range(self.options.max_iterations):
            done |= self._converged(x, g)
            if done.all():
                return x
            step = -np.einsum("bij,bj->bi", inverse, residual)
            step[done] = 0.0
            x = x + step.T
            g = self._rhs(block, x, inputs, params)
            self._check_finite(g, context)
            new_residual = (x - g).T
            change = new_residual - residual
            h_change = np.einsum("bij,bj->bi", inverse, change)
            denominator = np.einsum("bi,bi->b", step, h_change)
            denominator = np.where(np.abs(denominator) > 1e-300, denominator, 1e-300)
            correction = (step - h_change)[:, :, None] * np.einsum("bi,bij->bj", step, inverse)[:, None, :]
            inverse = inverse + correction / denominator[:, None, None]
            residual = new_residual
        if np.all(done | self._converged(x, g)):
            return x
        raise self._not_converged(x, g, context, self.options.max_iterations, "Broyden")


def _linear_solve(jac, rhs, context, batch, matrix=False):
    """Solve jac @ step = rhs for every batch member; a singular member is a ``SingularBlockError``."""
    right = rhs if matrix else rhs.T[:, :, None]
    try:
        with np.errstate(all="ignore"):
            step = np.linalg.solve(jac, right)
    except np.linalg.LinAlgError:
        step = None
    if step is None or not np.all(np.isfinite(step)):
        block, period, number, _ = context
        determinants = np.abs(np.linalg.det(jac))
        member = int(np.argmin(determinants))
        names = ", ".join(block.block.variables)
        raise SingularBlockError(
            f"period {period}{_member(member, batch)}: block {number + 1} ({names}) has a singular Jacobian, so "
            f"its equations do not pin down {names} at these values. Check that the block's equations are "
            "not redundant (an accounting identity written twice is a common cause) and that no parameter "
            "that multiplies a block variable is zero"
        )
    return step if matrix else step[:, :, 0].T


def _member(member: int, batch: int) -> str:
    return f" (batch member {member})" if batch > 1 else ""


def _non_finite(context, equation: int, value, member: int | None = None) -> NonFiniteError:
    block, period, number, inputs = context
    member = int(np.argmax(~np.isfinite(value))) if member is None else int(member)
    name = block.block.variables[equation]
    bad = np.asarray(value)[member] if np.ndim(value) else value
    shown = ", ".join(f"{label}={row[member]:.6g}" for label, row in zip(block.input_names, inputs))
    return NonFiniteError(
        f"period {period}{_member(member, len(np.atleast_1d(value)))}: the equation for {name} "
        f"({block.locations[equation]}) gives {bad}; its inputs were {shown or 'parameters only'}. "
        "Look for a division by zero, the log or square root of a negative number, or a variable that "
        "starts at 0 but should not (set it under [initial])"
    )
