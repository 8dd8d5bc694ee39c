"""The batch axis: K parameter draws solved in one pass equal K single runs."""

from __future__ import annotations

import numpy as np
import pytest

import drypowder
from drypowder.solve import SolverOptions, simulate


@pytest.mark.parametrize(
    "name, parameter, values", [("pc", "alpha1", [0.55, 0.6, 0.65, 0.7]), ("lp", "theta", [0.18, 0.2])]
)
@pytest.mark.parametrize("method", ["newton", "gauss-seidel", "broyden"])
def test_a_batch_equals_single_runs(name, parameter, values, method):
    model = drypowder.load(name)
    params, exogenous, initial = model.inputs(40, list(model.spec.experiment.shocks))
    batch = len(values)
    params = np.repeat(params, batch, axis=1)
    params[model.compiled.parameters.index(parameter)] = values
    together = simulate(
        model.compiled,
        params,
        np.repeat(exogenous, batch, axis=2),
        np.repeat(initial, batch, axis=1),
        SolverOptions(method=method, tolerance=1e-13),
    )
    for k, value in enumerate(values):
        single = model.copy().set(**{parameter: value}).run(periods=40, method=method, tolerance=1e-13)
        assert np.max(np.abs(together[:, :, k] - single.to_numpy()) / np.maximum(1, np.abs(single.to_numpy()))) < 1e-12


def test_a_batch_member_that_fails_is_named():
    model = drypowder.load("sim")
    params, exogenous, initial = model.inputs(5, list(model.spec.experiment.shocks))
    params = np.repeat(params, 3, axis=1)
    # alpha1 = 1/(1 - theta) makes Y = alpha1*(1 - theta)*Y + ... singular in the second member
    params[model.compiled.parameters.index("alpha1"), 1] = 1 / (1 - model.parameters["theta"])
    with pytest.raises(drypowder.SingularBlockError, match=r"^period 1 \(batch member 1\): block 2"):
        simulate(model.compiled, params, np.repeat(exogenous, 3, axis=2), np.repeat(initial, 3, axis=1))


def test_copies_share_the_compiled_code_but_not_the_values():
    model = drypowder.load("sim")
    twin = model.copy().set(alpha1=0.7)
    assert twin.compiled is model.compiled
    assert model.parameters["alpha1"] == 0.6 and twin.parameters["alpha1"] == 0.7
