"""The compiled (numba) period loop gives the numpy path's numbers and, on failure, its errors."""

from __future__ import annotations

import numpy as np
import pytest

import drypowder
from drypowder.jit import kernel_source

pytest.importorskip("numba")

MODELS = ["sim", "simex", "pc", "pcex", "lp"]


@pytest.mark.parametrize("name", MODELS)
def test_numba_and_numpy_agree(name):
    model = drypowder.load(name)
    compiled = model.run(periods=200, backend="numba")
    plain = model.run(periods=200, backend="numpy")
    assert np.max(np.abs(compiled.to_numpy() - plain.to_numpy()) / np.maximum(1, np.abs(plain.to_numpy()))) < 1e-12


def test_numba_batches_equal_single_runs():
    model = drypowder.load("pc")
    params, exogenous, initial = model.inputs(50, list(model.spec.experiment.shocks))
    params = np.repeat(params, 3, axis=1)
    params[model.compiled.parameters.index("alpha1")] = [0.55, 0.6, 0.65]
    from drypowder.solve import SolverOptions, simulate

    together = simulate(
        model.compiled,
        params,
        np.repeat(exogenous, 3, axis=2),
        np.repeat(initial, 3, axis=1),
        SolverOptions(backend="numba"),
    )
    for k, alpha1 in enumerate([0.55, 0.6, 0.65]):
        single = model.copy().set(alpha1=alpha1).run(periods=50, backend="numpy")
        assert np.max(np.abs(together[:, :, k] - single.to_numpy()) / np.maximum(1, np.abs(single.to_numpy()))) < 1e-12


def test_failures_in_machine_code_are_explained_like_the_numpy_path(write_model):
    path = write_model("K = K(-1) - 1\nY = log(K)", initial="K = 2")
    with pytest.raises(
        drypowder.NonFiniteError, match=r"^period 2: the equation for Y .* gives -inf; its inputs were K=0"
    ):
        drypowder.load(path).run(periods=5, backend="numba")
    singular = write_model("Y = C + G\nC = Y - G", exogenous="G = 20", name="singular.toml")
    with pytest.raises(drypowder.SingularBlockError, match=r"^period 1: block 1 \(Y, C\) has a singular Jacobian"):
        drypowder.load(singular).run(periods=3, backend="numba")


def test_the_generated_source_holds_no_model_text(write_model):
    # names never reach the generated code: only array indices and numbers do
    path = write_model("Y = secret_name*X + 1\nX = 0.5*Y", parameters="secret_name = 0.5")
    source = kernel_source(drypowder.load(path).compiled)
    assert "secret_name" not in source
    assert "p[pt, 0, k]" in source


def test_backend_choices_are_checked():
    model = drypowder.load("sim")
    with pytest.raises(drypowder.ModelError, match=r"unknown backend 'gpu'; choose one of auto, numba, numpy"):
        model.run(backend="gpu")
    with pytest.raises(drypowder.ModelError, match=r"the numba backend solves with Newton only"):
        model.run(backend="numba", method="broyden")


def test_a_division_by_zero_in_machine_code_is_reported_like_the_numpy_path(write_model):
    path = write_model("K = K(-1) - 1\nY = 1/K", initial="K = 2")
    with pytest.raises(drypowder.NonFiniteError, match=r"^period 2: the equation for Y .* gives inf"):
        drypowder.load(path).run(periods=5, backend="numba")


def test_a_non_finite_value_inside_a_run_of_recursive_blocks_stops_only_its_member(write_model):
    # One finiteness check covers a run of recursive blocks: Y = log(K) is -inf in member 1's period 2,
    # and Z and W, computed from it before the check, must not hide it or stop member 0.
    from drypowder import jit
    from drypowder.solve import SolverOptions

    path = write_model("K = K(-1) - a\nY = log(K)\nZ = 2*Y + K\nW = Z + 1", parameters="a = 0.1", initial="K = 2")
    model = drypowder.load(path)
    assert kernel_source(model.compiled).count("all_finite(s, r, k, FINITE_") == 1  # one check for the four
    params, exogenous, initial = model.inputs(5, [])
    params = np.repeat(params, 2, axis=1)
    params[model.compiled.parameters.index("a"), 1] = 1.0  # K: 2, 1, 0 -> log(0) in period 2
    arrays = params, np.repeat(exogenous, 2, axis=2), np.repeat(initial, 2, axis=1)
    options = SolverOptions(backend="numba")
    assert jit.simulate_compiled(model.compiled, *arrays, options) is None
    kept, stopped = jit.simulate_compiled_keeping(model.compiled, *arrays, options)
    assert stopped.tolist() == [1]
    alone = model.run(periods=5, backend="numpy")
    np.testing.assert_array_equal(kept[:, : alone.shape[1], 0], alone.to_numpy())  # member 0: as if alone
    with pytest.raises(
        drypowder.NonFiniteError, match=r"^period 2: the equation for Y .* gives -inf; its inputs were K=0"
    ):
        model.set(a=1.0).run(periods=5, backend="numba")


def _sparse_solvers(size, rows, cols):
    """The kernel's sparse LU both ways, compiled here: written out in local variables (as ``newton_b``
    runs it) and the plan run as data (``sparse_solve``, for large blocks)."""
    pytest.importorskip("numba")
    from drypowder import jit

    header = jit._HEADER.replace("{backward_error!r}", repr(jit.BACKWARD_ERROR))
    plan = jit.sparse_plan(size, rows, cols)
    lines = [f"a{i}_{j} = a[{i}, {j}]" for i, j in sorted(jit._entries_read(plan))]
    lines += [f"v{i} = v[{i}]" for i in range(size)]
    lines += jit._written_lu(plan, lambda i, j: f"a{i}_{j}", lambda i: f"v{i}")
    lines += [f"v[{i}] = v{i}" for i in range(size)] + ["return ok"]
    source = header + "\n@njit(error_model='numpy')\ndef written(a, v):\n" + "\n".join("    " + x for x in lines)
    namespace = {}
    exec(compile(source.replace("cache=True", "cache=False"), "<kernel header>", "exec"), namespace)  # noqa: S102
    arrays = [np.array(values, dtype=np.int64) for values in plan]
    spare = np.empty(len(arrays[-1]) + size)

    def as_data(a, v):
        return namespace["sparse_solve"](a, v, *arrays, spare, jit.BACKWARD_ERROR)

    return namespace["written"], as_data


def test_the_sparse_lu_solves_what_numpy_solves_and_hands_back_what_needs_row_exchanges():
    rng = np.random.default_rng(3)
    size = 12
    rows, cols = np.nonzero((rng.random((size, size)) < 0.25) & ~np.eye(size, dtype=bool))
    a = np.eye(size)
    a[rows, cols] = rng.uniform(-0.4, 0.4, len(rows))  # I - dg/dx of a well-behaved block
    v = rng.standard_normal(size)
    expected = np.linalg.solve(a, v)
    answers = []
    for solve in _sparse_solvers(size, rows, cols):
        matrix, x = a.copy(), v.copy()
        assert solve(matrix, x)
        assert np.max(np.abs(x - expected)) < 1e-13
        answers.append(x)
    np.testing.assert_array_equal(answers[0], answers[1])  # the same arithmetic in the same order
    swapped = np.array([[0.0, 1.0], [1.0, 1.0]])  # a zero pivot: only row exchanges solve it
    for solve in _sparse_solvers(2, np.array([0, 1]), np.array([1, 0])):
        assert not solve(swapped.copy(), np.ones(2))


def _pc_batch(model, members: int, periods: int):
    params, exogenous, initial = model.inputs(periods, list(model.spec.experiment.shocks))
    params = np.repeat(params, members, axis=1)
    params[model.compiled.parameters.index("alpha1")] = np.linspace(0.55, 0.7, members)
    return params, np.repeat(exogenous, members, axis=2), np.repeat(initial, members, axis=1)


def test_threads_share_a_batch_and_change_no_number(monkeypatch):
    from drypowder import jit
    from drypowder.solve import SolverOptions, simulate

    model = drypowder.load("pc")
    arrays = _pc_batch(model, 37, 30)
    monkeypatch.setattr(jit, "WORK_PER_THREAD", 1)  # so that a small batch is split too
    one = simulate(model.compiled, *arrays, SolverOptions(backend="numba", threads=1))
    for threads in (2, 3, 37, 64):  # 64: at most one thread per member
        assert jit.thread_count(threads, 37, 30) == min(threads, 37)
        np.testing.assert_array_equal(
            simulate(model.compiled, *arrays, SolverOptions(backend="numba", threads=threads)), one
        )
    monkeypatch.setattr(jit, "WORK_PER_THREAD", 5_000)
    assert jit.thread_count(8, 37, 30) == 1  # 1,110 member-periods: not worth a second thread
    assert jit.thread_count(None, 1, 10_000) == 1  # a single run stays on this thread


def test_a_failure_in_one_threads_members_is_named_like_the_numpy_path(monkeypatch):
    from drypowder import jit
    from drypowder.solve import SolverOptions, simulate

    model = drypowder.load("sim")
    params, exogenous, initial = model.inputs(5, list(model.spec.experiment.shocks))
    params = np.repeat(params, 9, axis=1)
    params[model.compiled.parameters.index("alpha1"), 7] = 1 / (1 - model.parameters["theta"])  # singular
    monkeypatch.setattr(jit, "WORK_PER_THREAD", 1)
    arrays = params, np.repeat(exogenous, 9, axis=2), np.repeat(initial, 9, axis=1)
    options = SolverOptions(backend="numba", threads=3)
    assert jit.simulate_compiled(model.compiled, *arrays, options) is None  # the third thread's members 6..8
    kept, stopped = jit.simulate_compiled_keeping(model.compiled, *arrays, options)  # member 7 stops alone
    assert stopped.tolist() == [7]
    params[model.compiled.parameters.index("alpha1"), 7] = 0.6
    solved = jit.simulate_compiled(model.compiled, *arrays, options)
    others = np.arange(9) != 7
    np.testing.assert_array_equal(kept[:, :, others], solved[:, :, others])
    params[model.compiled.parameters.index("alpha1"), 7] = 1 / (1 - model.parameters["theta"])
    with pytest.raises(drypowder.SingularBlockError, match=r"^period 1 \(batch member 7\): block 2"):
        simulate(
            model.compiled, params, np.repeat(exogenous, 9, axis=2), np.repeat(initial, 9, axis=1),
            SolverOptions(backend="numba", threads=3),
        )  # fmt: skip


@pytest.mark.parametrize("name", ["sim", "pc", "logs"])
def test_newton_written_out_gives_the_numbers_of_newton_on_arrays(name, monkeypatch, write_model):
    # small blocks run newton_b (every number a local variable); with STRAIGHT_LINE = 0 every block runs
    # solve_b (arrays and the LU as data), as large blocks do: the same numbers to the bit. "logs": a
    # nonlinear block solved in the logarithms of two of its variables (several Newton steps a period)
    from drypowder import jit
    from drypowder.solve import SolverOptions, simulate

    if name == "logs":
        path = write_model(
            "Y = C + G\nC = alpha1 * YD ** 0.9\nYD = Y * (1 - theta)",
            parameters="alpha1 = 0.8\ntheta = 0.2",
            exogenous="G = 20",
            initial="Y = 50\nC = 30\nYD = 40",
            extra='positive = ["Y", "C"]',
        )
        model = drypowder.load(path)
        assert [b.positive.tolist() for b in model.compiled.blocks if b.block.simultaneous] == [[True, True, False]]
    else:
        model = drypowder.load(name)
    params, exogenous, initial = model.inputs(60, list(model.spec.experiment.shocks) if model.spec.experiment else [])
    params = np.repeat(params, 40, axis=1)
    params[model.compiled.parameters.index("alpha1")] = np.linspace(0.5, 0.7, 40)
    arrays = params, np.repeat(exogenous, 40, axis=2), np.repeat(initial, 40, axis=1)
    options = SolverOptions(backend="numba", threads=1)
    assert "def newton_" in jit.kernel_source(model.compiled)
    written = jit.simulate_compiled(model.compiled, *arrays, options)
    assert written is not None  # solved in machine code, not handed back to the numpy path
    monkeypatch.setattr(jit, "STRAIGHT_LINE", 0)
    source = jit.kernel_source(model.compiled)
    assert "def newton_" not in source and "def solve_" in source
    np.testing.assert_array_equal(jit.simulate_compiled(model.compiled, *arrays, options), written)
    plain = simulate(model.compiled, *arrays, SolverOptions(backend="numpy"))
    assert np.max(np.abs(written - plain) / np.maximum(1, np.abs(plain))) < 1e-12


def test_a_zero_pivot_in_a_written_out_block_takes_the_dense_lu(write_model):
    # eliminating X first leaves Y's pivot at 1 - 1 = 0: the sparse LU's answer fails its check and the
    # dense LU, with row exchanges, solves it in machine code (Y = -(1 + 2 + 3), X = Y + 1, Z = Y + 3)
    from drypowder import jit
    from drypowder.solve import SolverOptions

    model = drypowder.load(write_model("X = Y + 1\nY = X + Z + 2\nZ = Y + 3"))
    (block,) = model.compiled.blocks
    size = block.size
    written, as_data = _sparse_solvers(size, block.jacobian_rows, block.jacobian_cols)
    jacobian = np.eye(size)
    jacobian[block.jacobian_rows, block.jacobian_cols] = -1.0
    assert not written(jacobian.copy(), np.ones(size)) and not as_data(jacobian.copy(), np.ones(size))
    solved = jit.simulate_compiled(model.compiled, *model.inputs(3, []), SolverOptions(backend="numba"))
    assert solved is not None  # not handed back to the numpy path
    for name, value in {"X": -5.0, "Y": -6.0, "Z": -3.0}.items():
        np.testing.assert_array_equal(solved[1:, model.compiled.series.index(name), 0], [value] * 3)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_the_thread_count_is_checked(threads):
    from drypowder.solve import SolverOptions

    with pytest.raises(
        drypowder.ModelError,
        match=rf"^threads must be a whole number, at least 1 \(None: every core\), got {threads!r}$",
    ):
        SolverOptions(threads=threads)
    assert SolverOptions(threads=np.int64(2)).threads == 2
