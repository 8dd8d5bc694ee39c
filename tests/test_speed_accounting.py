"""The faster accounting check gives the same numbers and the same report as the plain computation.

``add_up`` multiplies sparse matrices (no BLAS threads), ``check`` works a slice of batch members at a time
(bounded memory) and, once numba is loaded, scans the sums in one compiled pass; ``ExpressionEvaluator``
skips constant cells. None of it may change a verdict, a worst cell, a failure or its history.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import drypowder
from drypowder import accounting as accounting_module
from drypowder.evaluate import ExpressionEvaluator
from drypowder.shipped import shipped_models
from drypowder.solve import SolverOptions, simulate

WITH_MATRICES = [info.name for info in shipped_models() if drypowder.load(info.name).spec.matrices]


def _batch(model, periods: int, members: int):
    """The model's experiment for ``members`` copies whose exogenous values are scaled by 0.9 .. 1.1."""
    params, exogenous, initial = model.inputs(periods, list(model.spec.experiment.shocks))
    scale = np.linspace(0.9, 1.1, members)
    exogenous = exogenous * np.where(np.arange(len(exogenous))[:, None, None] > 0, scale, 1.0)
    params = np.repeat(params, members, axis=-1)
    values = simulate(model.compiled, params, exogenous, np.repeat(initial, members, axis=1), SolverOptions())
    return values, params


def _dense_add_up(accounting, cells, sizes):
    """The two matrix products written out densely, as the check first did them."""
    now, before = accounting._now, accounting._before
    earlier = np.concatenate([cells[:, :1], cells[:, :-1]], axis=1)
    earlier_sizes = np.concatenate([sizes[:, :1], sizes[:, :-1]], axis=1)
    total = np.einsum("ij,j...->i...", now, cells) + np.einsum("ij,j...->i...", before, earlier)
    gross = np.einsum("ij,j...->i...", np.abs(now), sizes) + np.einsum("ij,j...->i...", np.abs(before), earlier_sizes)
    return total, gross


@pytest.mark.parametrize("name", WITH_MATRICES)
def test_the_sparse_sums_equal_the_dense_products(name):
    model = drypowder.load(name)
    values, params = _batch(model, 12, 3)
    accounting = model.accounting
    cells, sizes = accounting.evaluate(values, params)
    total, gross = accounting.add_up(cells, sizes)
    dense_total, dense_gross = _dense_add_up(accounting, cells, sizes)
    scale = np.maximum(dense_gross, 1e-300)
    assert np.max(np.abs(total - dense_total) / scale) <= 1e-15
    assert np.max(np.abs(gross - dense_gross) / scale) <= 1e-15


def test_constant_cells_evaluate_as_every_cell_written_out():
    x, y, a = sympy.symbols("x y a")
    lagged = sympy.Symbol("y(-2)")
    expressions = [None, sympy.Integer(2), x + lagged, sympy.Abs(x) * a, sympy.Integer(0), sympy.Rational(1, 3), a]
    evaluator = ExpressionEvaluator(expressions, ["x", "y"], ["a"])
    values = np.arange(2 * 5 * 3, dtype=float).reshape(5, 2, 3) - 7.0  # [period, series, member]
    params = np.array([[0.5, -1.0, 2.0]])
    out = evaluator(values, params)
    xs, ys = values[:, 0], values[:, 1]
    y_two_back = np.concatenate([ys[:1], ys[:1], ys[:-2]])  # lags before period 0 read period 0
    expected = [0 * xs, 2 + 0 * xs, xs + y_two_back, np.abs(xs) * params[0], 0 * xs, 1 / 3 + 0 * xs, 0 * xs + params[0]]
    assert np.array_equal(out, np.array(expected))


def _report_fields(report):
    def one(imbalance):
        return (
            imbalance.check.label,
            imbalance.period,
            imbalance.member,
            imbalance.imbalance,
            imbalance.gross,
            imbalance.cells,
            None if imbalance.history is None else imbalance.history.tolist(),
        )

    return [one(i) for i in report.worst], [one(i) for i in report.failures]


def _corrupted(name):
    """A batch of 7 whose accounting is broken in three members: two in one period, one earlier."""
    model = drypowder.load(name)
    values, params = _batch(model, 20, 7)
    values = values.copy()
    for member, period, variable in ((5, 9, 0), (2, 9, 1), (6, 4, 2)):
        values[period, variable, member] += 3.0
    return model.accounting, values, params


@pytest.mark.parametrize("name", ["sim", "lp", "bmw"])
def test_the_report_does_not_depend_on_the_slicing(name):
    accounting, values, params = _corrupted(name)
    whole = accounting.check(values, params)
    assert whole.failures, "the corrupted members must fail"
    for per_slice in (1, 2, 3):
        accounting.SLICE_BYTES = per_slice * 2 * accounting.cell_count * values.shape[0] * 8
        try:
            assert accounting.members_per_slice(values.shape[0]) == per_slice
            sliced = accounting.check(values, params)
        finally:
            del accounting.SLICE_BYTES
        assert _report_fields(sliced) == _report_fields(whole)
        assert sliced.message() == whole.message()


@pytest.mark.parametrize("name", ["sim", "lp", "bmw", "drypowder"])
def test_the_compiled_scan_reports_what_numpy_reports(name, monkeypatch):
    pytest.importorskip("numba")
    accounting, values, params = _corrupted(name)
    skip = np.zeros(values.shape[2], dtype=bool)
    skip[[2, 3]] = True  # a sweep's draws that could not be solved: not checked
    reports = {}
    for compiled in (True, False):
        monkeypatch.setattr(accounting_module, "COMPILED", compiled)
        assert (accounting_module._compiled_scan() is not None) == compiled
        reports[compiled] = [accounting.check(values, params), accounting.check(values, params, skip=skip)]
        reports[compiled].append(accounting.check(values[:, :, 0], params[..., 0]))  # one run
    for fast, plain in zip(reports[True], reports[False]):
        assert _report_fields(fast) == _report_fields(plain)
        assert fast.max_relative_imbalance == plain.max_relative_imbalance
    assert {f.member for f in reports[True][1].failures} <= {5, 6}  # the skipped member 2 is not reported


def test_a_single_run_labels_its_own_array():
    sim = drypowder.load("sim")
    first = sim.run(50)
    second = sim.copy().set(alpha1=0.7).run(50)
    assert list(first.columns) == sim.compiled.series
    assert first.columns is second.columns  # one Index, built once and shared by copies
    assert not np.shares_memory(first.to_numpy(), second.to_numpy())
    assert not first.equals(second)
