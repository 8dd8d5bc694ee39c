"""The faster accounting check gives the same numbers and the same report as the plain computation.

``add_up`` multiplies sparse matrices (no BLAS threads), ``check`` works a slice of batch members at a time
(bounded memory) and, once numba is loaded, runs in machine code as a register program
(``drypowder.machine_check``); ``ExpressionEvaluator`` skips constant cells. None of it may change a
verdict, a worst cell, a failure or its history: the machine-code check must agree to the bit.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import drypowder
from drypowder import accounting as accounting_module
from drypowder import machine_check
from drypowder.accounting import SparseWeights
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


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 12),
    st.integers(0, 15),
    st.integers(1, 40),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_the_checks_weights_multiply_as_scipy_s_csr_matrix_to_the_bit(rows, columns, width, density, seed):
    rng = np.random.default_rng(seed)
    dense = rng.choice([-1.0, 1.0, 0.5, -2.0], size=(rows, columns)) * (rng.random((rows, columns)) < density)
    x = rng.normal(scale=1e6, size=(columns, width)) * rng.choice([1.0, 1e-9, 3.0], size=(columns, width))
    weights = SparseWeights.of(dense)
    expected = scipy.sparse.csr_matrix(dense) @ x
    for product in (weights.loop_product(x), weights.scipy_product(x), weights @ x):
        assert product.shape == (rows, width)
        np.testing.assert_array_equal(product, expected)
    np.testing.assert_array_equal(weights.absolute().loop_product(x), abs(scipy.sparse.csr_matrix(dense)) @ x)


def test_a_short_run_never_imports_scipy(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, drypowder; drypowder.load('pc').run(periods=50); drypowder.load('pc').run(periods=50); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sympy', 'numba'}))"
    )
    environment = {**__import__("os").environ, "DRYPOWDER_CACHE": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert "sympy" in first.stdout  # the first load compiles and fills the cache
    second = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert second.stdout.strip() == "[]"  # from the cache: the run and its accounting check need none of them


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


def _both_ways(accounting, monkeypatch, *arguments, **keywords):
    """The report of the machine-code check and of the numpy check, on the same values."""
    reports = []
    for compiled in (True, False):
        monkeypatch.setattr(accounting_module, "COMPILED", compiled)
        reports.append(accounting.check(*arguments, **keywords))
    return reports


@pytest.mark.parametrize("name", WITH_MATRICES)
def test_the_machine_check_reports_what_numpy_reports(name, monkeypatch):
    pytest.importorskip("numba")
    model = drypowder.load(name)
    values, params = _batch(model, 20, 7)
    skip = np.zeros(values.shape[2], dtype=bool)
    skip[[2, 3]] = True  # a sweep's draws that could not be solved: not checked
    accounting = model.accounting
    assert machine_check.program(accounting) is not None, "every shipped model's cells run as a register program"
    found = machine_check.check(accounting, values, params, 1e-9, 1e-12)
    assert found is not None and found[0] < 1e-12
    cases = [((values, params), {}), ((values, params), {"skip": skip}), ((values[:, :, 0], params[..., 0]), {})]
    for block_bytes in (machine_check.BLOCK_BYTES, 1):  # 1: blocks of 64 columns, so lags cross blocks
        monkeypatch.setattr(machine_check, "BLOCK_BYTES", block_bytes)
        for arguments, keywords in cases:
            fast, plain = _both_ways(accounting, monkeypatch, *arguments, **keywords)
            assert fast.max_relative_imbalance == plain.max_relative_imbalance
            assert _report_fields(fast) == _report_fields(plain)


def test_the_machine_check_over_many_blocks_and_member_slices(monkeypatch):
    """100 members in slices of 64, 41 periods in blocks of one period: every lag crosses a block."""
    pytest.importorskip("numba")
    model = drypowder.load("pc")
    values, params = _batch(model, 40, 100)
    monkeypatch.setattr(machine_check, "BLOCK_BYTES", 1)
    fast, plain = _both_ways(model.accounting, monkeypatch, values, params)
    assert fast.max_relative_imbalance == plain.max_relative_imbalance > 0
    assert _report_fields(fast) == _report_fields(plain)


def test_threads_sharing_the_machine_check_change_nothing(monkeypatch):
    """Each thread takes a range of members; the worst of each identity, and a tie (many sums are exactly 0)
    going to the lowest column, must come out as from one thread. A failure in any range is a failure."""
    pytest.importorskip("numba")
    from drypowder import jit

    model = drypowder.load("pc")
    values, params = _batch(model, 40, 23)
    skip = np.zeros(23, dtype=bool)
    skip[[0, 11]] = True
    monkeypatch.setattr(jit, "WORK_PER_THREAD", 1)
    monkeypatch.setattr(machine_check, "BLOCK_BYTES", 1)  # blocks of 64 columns: ranges of 1 or 2 periods
    for keywords in ({}, {"skip": skip}):
        one = machine_check.check(model.accounting, values, params, 1e-9, 1e-12, threads=1, **keywords)
        assert one[0] > 0 and (one[1] == 0).any()  # some identities add up exactly: ties at 0
        for threads in (2, 3, 23):
            shared = machine_check.check(model.accounting, values, params, 1e-9, 1e-12, threads=threads, **keywords)
            for mine, theirs in zip(shared, one):
                np.testing.assert_array_equal(mine, theirs)
    values[30, model.compiled.series.index("Hh"), 19] *= 1.001  # in the last thread's range only
    assert machine_check.check(model.accounting, values, params, 1e-9, 1e-12, threads=3) is None
    report = model.accounting.check(values, params, 1e-9, threads=3)  # explained by the numpy check
    assert report.failures and report.failures[0].member == 19


@pytest.mark.parametrize("name", ["sim", "lp", "bmw", "drypowder"])
def test_a_failure_found_in_machine_code_is_explained_by_the_numpy_check(name, monkeypatch):
    pytest.importorskip("numba")
    accounting, values, params = _corrupted(name)
    assert machine_check.check(accounting, values, params, 1e-9, 1e-12) is None  # it failed: no verdict there
    skip = np.zeros(values.shape[2], dtype=bool)
    skip[[2, 3]] = True
    fast, plain = _both_ways(accounting, monkeypatch, values, params)
    assert fast.failures and _report_fields(fast) == _report_fields(plain)
    assert fast.message() == plain.message()
    fast, plain = _both_ways(accounting, monkeypatch, values, params, skip=skip)
    assert _report_fields(fast) == _report_fields(plain)
    assert {f.member for f in fast.failures} <= {5, 6}  # the skipped member 2 is not reported


def _accounting_of(expressions, checks, series, parameters):
    """A stand-in accounting of these cells, whose check i adds up the cells ``checks[i]``."""
    sizes = [sympy.Add(*map(sympy.Abs, sympy.Add.make_args(sympy.expand(e)))) for e in expressions]
    weights = np.zeros((len(checks), len(expressions)))
    for i, cells in enumerate(checks):
        weights[i, cells] = 1.0
    return SimpleNamespace(
        evaluate_all=ExpressionEvaluator(expressions + sizes, series, parameters),
        cell_count=len(expressions),
        _now_sparse=SparseWeights.of(weights),
        _before_sparse=SparseWeights.of(np.zeros((len(checks), 0))),
        _lagged=np.array([], dtype=int),
        sums=[SimpleNamespace(first_period=0)] * len(checks),
    )


def test_the_register_program_computes_what_numpy_computes_to_the_bit():
    """Check i adds cell i, a formula, to cell n + i, minus a series that holds numpy's value of cell i. Every
    sum is exactly 0 only if the program computes every column of every formula to the last bit; one bit
    changed in one column is found there."""
    pytest.importorskip("numba")
    x, y, a = sympy.symbols("x y a")
    y1 = sympy.Symbol("y(-1)")
    forms = [
        x**2 + y / 3,
        sympy.sqrt(sympy.Abs(x)) * a,
        x**3 - 2 * y1,
        1 / x - y1 / (x + y),
        (x + y) ** -1 + x**0.5,
        a**x - sympy.Rational(1, 7) * y,
        -(x * y * a) + 0.1 * x - y1,
    ]
    n = len(forms)
    names = ["x", "y"] + [f"z{i}" for i in range(n)]
    cells = forms + [-sympy.Symbol(f"z{i}") for i in range(n)]
    accounting = _accounting_of(cells, [[i, n + i] for i in range(n)], names, ["a"])
    rng = np.random.default_rng(1)
    values = np.zeros((30, len(names), 5))  # [period, series, member]
    values[:, :2] = rng.uniform(0.5, 3.0, (30, 2, 5))
    params = rng.uniform(0.5, 2.0, (1, 5))
    values[:, 2:] = accounting.evaluate_all(values, params)[:n].transpose(1, 0, 2)  # numpy's value of each form
    largest, worst_value, *_ = machine_check.check(accounting, values, params, 1e-9, 1e-12)
    assert largest == 0.0 and worst_value.tolist() == [0.0] * n
    values[17, 2 + 4, 3] = np.nextafter(values[17, 2 + 4, 3], np.inf)
    largest, worst_value, worst_at, worst_total, _ = machine_check.check(accounting, values, params, 1e-9, 1e-12)
    assert 0 < largest < 1e-15 and np.flatnonzero(worst_value).tolist() == [4]
    assert divmod(int(worst_at[4]), 5) == (17, 3) and worst_total[4] != 0


def test_cells_the_program_cannot_express_stay_on_the_numpy_check():
    x = sympy.Symbol("x")
    accounting = _accounting_of([sympy.exp(x) - x], [[0]], ["x"], [])
    assert machine_check.program(accounting) is None
    assert machine_check.check(accounting, np.ones((3, 1, 1)), np.ones((0, 1)), 1e-9, 1e-12) is None


def test_a_single_run_labels_its_own_array():
    sim = drypowder.load("sim")
    first = sim.run(50)
    second = sim.copy().set(alpha1=0.7).run(50)
    assert list(first.columns) == sim.compiled.series
    assert first.columns is second.columns  # one Index, built once and shared by copies
    assert not np.shares_memory(first.to_numpy(), second.to_numpy())
    assert not first.equals(second)
