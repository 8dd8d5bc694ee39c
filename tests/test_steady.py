"""Steady states solved directly: closed forms, long runs, eigenvalues against the observed convergence."""

from __future__ import annotations

import numpy as np
import pytest

import drypowder
from drypowder import ConvergenceError, Shock, SingularBlockError, UnknownNameError
from drypowder.steady import steady_state


def relative(a, b):
    return np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) / np.maximum(1.0, np.abs(b)))


def deviations(results, steady, name, start):
    """A variable's distance from the steady state, from period ``start`` on."""
    return results[name].to_numpy()[start:] - steady.values[name]


# --- the levels: closed forms ------------------------------------------------------------------------


@pytest.mark.parametrize("g", [20.0, 25.0])
def test_sim_matches_its_closed_form(g):
    model = drypowder.load("sim")
    steady = steady_state(model, exogenous={"Gd": g})
    p = model.parameters
    alpha3 = (1 - p["alpha1"]) / p["alpha2"]
    yd = (1 - p["theta"]) * g / p["theta"]
    closed = {"Y": g / p["theta"], "YD": yd, "Cd": yd, "Td": g, "Hh": alpha3 * yd, "Hs": alpha3 * yd, "Gd": g}
    for name, value in closed.items():
        assert relative(steady.values[name], value) < 1e-10, name
    assert steady.residual < 1e-13


@pytest.mark.parametrize("r", [0.025, 0.035])
def test_pc_matches_its_closed_form(r):
    model = drypowder.load("pc")
    steady = steady_state(model, exogenous={"r": r})
    p, g = model.parameters, 20.0
    alpha3 = (1 - p["alpha1"]) / p["alpha2"]
    b = alpha3 * (p["lambda0"] + p["lambda1"] * r) - p["lambda2"]
    yd = (1 - p["theta"]) * g / (p["theta"] - (1 - p["theta"]) * r * b)
    v = alpha3 * yd
    closed = {"YD": yd, "C": yd, "Y": yd + g, "V": v, "Bh": b * yd, "Hh": v - b * yd, "Hs": v - b * yd, "Bs": v}
    for name, value in closed.items():
        assert relative(steady.values[name], value) < 1e-10, name


def test_the_stock_identities_keep_their_initial_value():
    # SIM started with Hh - Hs = 10 keeps that gap for ever (the accounting check of a run says so);
    # the steady state must keep it too
    model = drypowder.load("sim")
    model.initial.update(Hh=10.0, Hs=0.0)
    steady = steady_state(model, exogenous={"Gd": 20})
    assert relative(steady.values["Hh"], 80.0) < 1e-12
    assert relative(steady.values["Hs"], 70.0) < 1e-12
    end = model.run(periods=400, check_accounting=False).iloc[-1]
    assert relative(steady.values, end[steady.values.index]) < 1e-10


# --- the levels: against long runs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, exogenous, shocks",
    [
        ("simex", {"Gd": 25.0}, None),
        ("pcex", {"r": 0.035}, [Shock("r", 5, value=0.035)]),
        ("lp", {"rb": 0.04, "pbl": 15.0}, None),
    ],
)
def test_equals_the_end_of_a_long_run(name, exogenous, shocks):
    model = drypowder.load(name)
    steady = steady_state(model, exogenous=exogenous)
    end = model.run(periods=2000, shocks=shocks).iloc[-1]
    assert relative(steady.values, end[steady.values.index]) < 1e-8
    assert list(steady.values.index) == model.compiled.series


def test_the_answer_does_not_depend_on_the_guess():
    model = drypowder.load("lp")
    steady = steady_state(model, exogenous={"rb": 0.04, "pbl": 15.0})
    far = {name: 3 * steady.values[name] + 1 for name in model.spec.endogenous}
    again = steady_state(model, exogenous={"rb": 0.04, "pbl": 15.0}, guess=far)
    assert relative(again.values, steady.values) < 1e-12
    assert model.exogenous["rb"] == 0.03  # the model itself is left alone


# --- stability ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, exogenous, unit_roots",
    # SIM keeps Hh - Hs. PC and LP keep two stocks apart: the central bank's Hs - Bcb and the
    # government's V - Bs (V - Bs - pbl*BLs in LP); the hidden Hh - Hs is their difference.
    [("sim", {"Gd": 20.0}, 1), ("pc", {"r": 0.035}, 2), ("lp", {"rb": 0.04, "pbl": 15.0}, 2)],
)
def test_the_shipped_models_are_stable(name, exogenous, unit_roots):
    steady = steady_state(drypowder.load(name), exogenous=exogenous)
    assert steady.stable
    assert steady.unit_roots == unit_roots
    assert np.max(np.abs(steady.eigenvalues[:unit_roots] - 1)) < 1e-12
    assert np.abs(steady.eigenvalues[unit_roots]) < 0.9
    assert steady.verdict.startswith("stable: largest eigenvalue modulus 0.")
    assert f"besides {unit_roots} unit root" in steady.verdict


def test_sim_converges_at_the_rate_of_its_closed_form_eigenvalue():
    # H_t = H_{t-1} + (1 - alpha1) YD_t - alpha2 H_{t-1}, where consumption and income solve to
    # YD_t = (1 - theta)(G + alpha2 H_{t-1}) / (1 - alpha1 (1 - theta)); so
    # dH_t / dH_{t-1} = 1 - alpha2 theta / (1 - alpha1 (1 - theta)) = 11/13 for the book's values.
    model = drypowder.load("sim")
    p = model.parameters
    closed = 1 - p["alpha2"] * p["theta"] / (1 - p["alpha1"] * (1 - p["theta"]))
    steady = steady_state(model, exogenous={"Gd": 20.0})
    assert abs(steady.eigenvalues[1] - closed) < 1e-12
    d = deviations(model.run(periods=80), steady, "Hh", start=20)
    assert np.max(np.abs(d[1:] / d[:-1] - closed)) < 1e-6


def test_pc_converges_at_the_rate_of_its_largest_stable_eigenvalue():
    model = drypowder.load("pc")
    steady = steady_state(model, exogenous={"r": 0.035})
    d = deviations(model.run(periods=70), steady, "Y", start=25)  # the rise in r is in period 5
    assert np.max(np.abs(d[1:] / d[:-1] - steady.eigenvalues[2].real)) < 1e-6


def test_lp_deviations_follow_the_recurrence_of_its_eigenvalues():
    # LP has two close roots (0.847 and 0.8), so successive ratios converge too slowly to check;
    # instead the deviations must satisfy the recurrence whose characteristic roots are the eigenvalues.
    model = drypowder.load("lp")
    steady = steady_state(model, exogenous={"rb": 0.04, "pbl": 15.0})
    roots = steady.eigenvalues[steady.unit_roots :]
    roots = roots[np.abs(roots) > 1e-12]
    coefficients = np.poly(roots).real  # d_{t+k} + c1 d_{t+k-1} + ... + ck d_t = 0
    k = len(roots)
    d = deviations(model.run(periods=50), steady, "Y", start=10)
    predicted = sum(coefficients[i] * d[k - i : len(d) - i] for i in range(k + 1))
    assert np.max(np.abs(predicted) / np.abs(d[: len(d) - k])) < 1e-6


def test_an_unstable_model_says_so_with_its_eigenvalue(write_model):
    model = drypowder.load(write_model("x = 1.5*x(-1) + G", exogenous="G = 2"))
    steady = steady_state(model)
    assert steady.values["x"] == pytest.approx(-4.0, rel=1e-14)
    assert not steady.stable
    assert steady.unit_roots == 0
    np.testing.assert_allclose(steady.eigenvalues, [1.5], rtol=1e-14)
    assert steady.verdict.startswith("unstable: eigenvalue 1.5 has modulus 1.5 >= 1")


def test_longer_lags_go_through_the_companion_matrix(write_model):
    model = drypowder.load(
        write_model("x = 0.5*x(-1) + 0.3*x(-2) + G\ny = 0.9*y(-1) - 0.5*y(-3) + x", exogenous="G = 1")
    )
    steady = steady_state(model)
    assert relative(steady.values[["x", "y"]], [5.0, 5.0 / 0.6]) < 1e-14
    expected = np.concatenate([np.roots([1, -0.5, -0.3]), np.roots([1, -0.9, 0, 0.5])])
    np.testing.assert_allclose(np.sort_complex(steady.eigenvalues), np.sort_complex(expected), atol=1e-12)
    assert steady.stable


# --- no steady state, or many ------------------------------------------------------------------------


def test_a_model_that_never_settles_has_no_steady_state(write_model):
    path = write_model("x = x(-1) + 1")
    with pytest.raises(ConvergenceError) as error:
        steady_state(drypowder.load(path))
    message = str(error.value)
    assert message.startswith("model TEST: no steady state found: ")
    assert "did not converge; the largest residual is -1 (relative " in message
    assert f"tolerance 1e-10) in the equation for x ({path}, line 13, column 1)." in message
    assert "The stationary Jacobian is singular there (rank 0 of 1)" in message
    assert "guess=" in message


def test_a_stock_without_a_balance_sheet_is_not_pinned_down(write_model):
    # SIM's two money stocks, without the matrices that would say Hh - Hs keeps its initial value
    path = write_model(
        """
        Y = C + G
        T = theta*Y
        C = alpha1*(Y - T) + alpha2*Hh(-1)
        Hh = Hh(-1) + Y - T - C
        Hs = Hs(-1) + G - T
        """,
        parameters="theta = 0.2\nalpha1 = 0.6\nalpha2 = 0.4",
        exogenous="G = 20",
    )
    with pytest.raises(SingularBlockError, match=r"is not unique: the stationary equations leave Hs free\."):
        steady_state(drypowder.load(path))


def test_names_are_checked():
    model = drypowder.load("sim")
    with pytest.raises(UnknownNameError, match=r"exogenous= names 'G', which is not a name .* Did you mean Gd\?"):
        steady_state(model, exogenous={"G": 20})
    with pytest.raises(UnknownNameError, match=r"guess= names 'Gd', which is exogenous in model SIM"):
        steady_state(model, guess={"Gd": 20})


def test_bmw_is_stable_once_the_accounting_modes_are_set_aside():
    # Mh - Ms grows by 1 + rl a period if it ever opens: a mode of the accounting, not of the economy
    model = drypowder.load("bmw")
    result = steady_state(model)
    assert result.stable
    assert result.unit_roots == 4
    assert "the mode 1.04 of a gap in a stock identity" in result.verdict
    economic = sorted(abs(v) for v in result.eigenvalues if abs(abs(v) - 1) > 1e-7 and abs(v - 1.04) > 1e-7)
    assert economic[-1] == pytest.approx(0.75, abs=1e-9)
