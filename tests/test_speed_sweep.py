"""A sweep that keeps going: a draw that cannot be solved is named and left NaN, every other draw is solved.

SIM's block is singular where alpha1 * (1 - theta) = 1, so alpha1 = 1.25 with theta = 0.2 cannot be solved.
"""

from __future__ import annotations

import numpy as np
import pytest

import drypowder
from drypowder.errors import ModelError, SingularBlockError
from drypowder.sweep import Vary, run_sweep

PERIODS = 12


@pytest.fixture(scope="module")
def sim():
    return drypowder.load("sim")


def _grid(sim, backend, chunk, **options):
    # 16 x 16 points, alpha1 varying fastest: every 16th draw (15, 31, ...) has alpha1 = 1.25
    vary = [Vary("theta", 0.2, 0.2), Vary("alpha1", 1.0, 1.25)]
    with pytest.warns(RuntimeWarning, match=r"^16 of 256 draws could not be solved.* The first: draw 15 \(theta=0.2, "):
        return run_sweep(
            sim, vary, draws=16, grid=True, periods=PERIODS, chunk=chunk, backend=backend, on_failure="keep", **options
        )


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("chunk", [256, 50])
def test_failed_draws_are_named_and_the_others_solved(sim, backend, chunk):
    dataset = _grid(sim, backend, chunk)
    failed = dataset["failed"].to_numpy()
    np.testing.assert_array_equal(failed, np.arange(256) % 16 == 15)
    assert dataset.attrs["failed"] == 16
    reasons = dataset.attrs["failures"].splitlines()
    assert len(reasons) == 16
    assert reasons[0].startswith("draw 15 (theta=0.2, alpha1=1.25): period 1: block 2 (")
    assert reasons[0].endswith("is zero")
    assert reasons[-1].startswith("draw 255 (theta=0.2, alpha1=1.25): period 1: block 2 (")
    assert np.isnan(dataset["Y"].to_numpy()[failed]).all()
    assert np.isfinite(dataset["Y"].to_numpy()[~failed]).all()
    assert np.isfinite(dataset.attrs["max_relative_imbalance"])  # checked: the solved draws all added up
    for draw in (0, 14, 16, 100, 254):
        alpha1 = float(dataset["input_alpha1"][draw])
        single = sim.copy().set(alpha1=alpha1, theta=0.2).run(PERIODS, backend=backend)
        for name in ("Y", "Hh", "YD"):
            np.testing.assert_allclose(dataset[name].isel(draw=draw), single[name], rtol=1e-12, atol=1e-12)


def test_keeping_failures_changes_no_number_of_a_sweep_that_solves(sim):
    vary = [Vary("alpha1", 0.55, 0.65), Vary("theta", 0.15, 0.25)]
    raised = run_sweep(sim, vary, draws=300, periods=PERIODS, chunk=128)
    kept = run_sweep(sim, vary, draws=300, periods=PERIODS, chunk=128, on_failure="keep")
    assert kept.attrs["failed"] == 0 and not kept["failed"].any()
    for name in raised.data_vars:
        np.testing.assert_array_equal(kept[name].to_numpy(), raised[name].to_numpy())


def test_the_default_still_raises_and_the_option_is_checked(sim):
    with pytest.raises(SingularBlockError, match=r"draw 15: theta=0\.2, alpha1=1\.25"):
        run_sweep(sim, [Vary("theta", 0.2, 0.2), Vary("alpha1", 1.0, 1.25)], draws=16, grid=True, periods=3)
    with pytest.raises(ModelError, match=r"on_failure must be one of 'raise', 'keep', got 'skip'"):
        run_sweep(sim, [Vary("alpha1", 0.5, 0.6)], draws=2, periods=3, on_failure="skip")


def test_threads_change_no_number_of_a_sweep(sim, monkeypatch):
    from drypowder import jit

    monkeypatch.setattr(jit, "WORK_PER_THREAD", 1)
    vary = [Vary("alpha1", 0.55, 0.65), Vary("theta", 0.15, 0.25)]
    one = run_sweep(sim, vary, draws=50, periods=PERIODS, backend="numba", threads=1)
    three = run_sweep(sim, vary, draws=50, periods=PERIODS, backend="numba", threads=3)
    assert three.attrs["max_relative_imbalance"] == one.attrs["max_relative_imbalance"]
    for name in one.data_vars:
        np.testing.assert_array_equal(three[name].to_numpy(), one[name].to_numpy())
    one, three = _grid(sim, "numba", 256, threads=1), _grid(sim, "numba", 256, threads=3)  # failed draws in each range
    assert three.attrs["failures"] == one.attrs["failures"]
    for name in one.data_vars:
        np.testing.assert_array_equal(three[name].to_numpy(), one[name].to_numpy())
    with pytest.raises(ModelError, match=r"^threads must be a whole number, at least 1 \(None: every core\), got 0$"):
        run_sweep(sim, vary, draws=2, periods=3, threads=0)
