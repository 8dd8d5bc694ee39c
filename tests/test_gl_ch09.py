"""Godley & Lavoie ch. 9, models DIS and DISINF: closed forms, the accounting, their own equations, pysolve.

The book prints no table of simulated values for chapter 9 (its results are figures 9.1-9.6), so the
numbers here are the book's closed-form stationary state of DIS, closed forms derived from DISINF's
equations (tests/data/gl_ch09.toml gives every formula), and pysolve. The helpers are shared with
tests/test_gl_ch10.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

import drypowder
from drypowder import read_scenario, run_scenario
from drypowder.accounting import hidden_equations, identities
from drypowder.pysolve_bridge import run_pysolve
from drypowder.residuals import equation_residuals
from drypowder.shocks import ParameterChange
from drypowder.steady import steady_state

DATA = Path(__file__).parent / "data"
PUBLISHED = tomllib.loads((DATA / "gl_ch09.toml").read_text())
MODELS = ["dis", "disinf"]
SCENARIOS = ["dis_inventory_target", "disinf_blind_households"]


def relative(a, b) -> float:
    """Largest |a - b| / max(1, |b|), elementwise over arrays or frames."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def drift_from_start(results) -> float:
    """How far a run moves from its period-0 state (0 for a run that stays at rest)."""
    return relative(results, results.iloc[[0] * len(results)].set_axis(results.index))


def scenario_runs(name: str):
    """(model, baseline, scenario run, scenario) of a shipped scenario file."""
    scenario, model = read_scenario(name)
    baseline, changed = run_scenario(model, scenario)
    return model, baseline, changed, scenario


def worst_residual(model, results, changes=()) -> float:
    """Largest equation residual of a run, with the parameter changes in force from their periods on."""
    worst = equation_residuals(model, results).abs()  # periods 1..T
    changed = model.copy()
    for change in sorted(changes, key=lambda c: c.start):
        changed.set(**{change.name: change.value})
        worst.loc[change.start :] = equation_residuals(changed, results).abs().loc[change.start :]
    return float(worst.max().max())


def hidden_pair_is_one_equation(model, stocks: tuple[str, ...], first, second) -> None:
    """Two hidden equations that are one: move `stocks` up by 1 at the start; both are off by 1 for ever."""
    broken = model.copy()
    broken.initial = dict(model.initial, **{name: model.initial[name] + 1.0 for name in stocks})
    results = broken.run(periods=30, check_accounting=False)
    for gap in (first(results), second(results)):
        assert np.allclose(np.abs(gap.to_numpy()[1:]), 1.0, rtol=0, atol=1e-9)


def default_run(name: str):
    """(model, results) of a shipped model's default run, the book's experiment."""
    model = drypowder.load(name)
    return model, model.run()


@pytest.fixture(scope="module")
def default_runs():
    return {name: default_run(name) for name in MODELS}


# --- DIS: the book's closed-form stationary state ---------------------------------------------------


def _dis_income(p, phi, sigma_t, rl):
    unit_cost_over_price = 1 / ((1 + phi) * (1 + sigma_t * rl))
    return p["alpha0"] / (1 - p["alpha1"] - p["alpha2"] * sigma_t * unit_cost_over_price), unit_cost_over_price


def test_dis_uses_the_parameters_of_zezzas_program():
    model = drypowder.load("dis")
    table = PUBLISHED["dis"]["parameters"]
    values = {**model.parameters, **model.exogenous}
    assert {k: values[k] for k in table if k in values} == {k: v for k, v in table.items() if k in values}


def test_dis_starts_at_and_returns_to_the_books_stationary_states():
    model = drypowder.load("dis")
    table = PUBLISHED["dis"]["steady_state"]
    p = model.parameters
    results = model.run(periods=400)
    for column, row in ((0, 0), (1, 400)):
        income, ratio = _dis_income(p, table["phi"][column], table["sigma_T"][column], model.exogenous["rl"])
        assert income == pytest.approx(table["ydhs"][column], abs=1e-9)
        assert ratio == pytest.approx(table["UC_over_p"][column], abs=1e-9)
        for name in ("ydhs", "c", "s", "y"):
            assert relative(results[name][row], income) < 1e-12, (name, row)
        assert relative(results["inv"][row], table["sigma_T"][column] * income) < 1e-12
        assert relative(results["mh"][row], table["sigma_T"][column] * income * ratio) < 1e-12


def test_dis_steady_state_solver_finds_the_closed_form():
    model = drypowder.load("dis")
    solved = steady_state(model, exogenous={"phi": 0.30})
    income, _ = _dis_income(model.parameters, 0.30, model.parameters["sigma_T"], model.exogenous["rl"])
    assert solved.stable and solved.unit_roots == 1
    assert relative(solved.values["ydhs"], income) < 1e-12


def test_dis_higher_inventory_target_reaches_its_stationary_state():
    model = drypowder.load("dis")
    table = PUBLISHED["dis"]["steady_state"]
    results = model.run(periods=500, shocks=[], changes=[ParameterChange("sigma_T", 0.25, 5)])
    income, _ = _dis_income(model.parameters, 0.25, 0.25, model.exogenous["rl"])
    assert income == pytest.approx(table["ydhs"][2], abs=1e-9)
    assert relative(results["c"].iloc[-1], income) < 1e-10
    # figure 9.3, as the book reads it: for twenty periods after the shock, while inventories build up, the
    # realized change stays below the desired increase in^e - in(-1) (sfcr plots the change of in^e instead,
    # and finds the opposite); later both are tiny and cross
    desired = (results["inv_e"] - results["inv"].shift()).iloc[6:28]
    assert (results["inv"].diff().iloc[6:28] < desired).all()


# --- DISINF: the rest point and the inflation that follows a higher target real wage --------------------


def test_disinf_starts_at_a_zero_inflation_rest_point():
    model = drypowder.load("disinf")
    table = PUBLISHED["disinf"]["rest_point"]
    assert model.exogenous["Nfe"] == pytest.approx(table["Nfe"], abs=1e-9)
    results = model.run(periods=40, shocks=[])
    assert drift_from_start(results) < 1e-12
    assert results["p"][0] == pytest.approx(table["p"], abs=1e-12)
    assert results["c"][0] == pytest.approx(table["c"], abs=1e-9)
    assert results["omega_T"][0] == pytest.approx(results["W"][0] / results["p"][0], abs=1e-15)


def test_disinf_higher_target_wage_means_steady_inflation_and_no_real_effects(default_runs):
    model, results = default_runs["disinf"]
    table = PUBLISHED["disinf"]["after_target_wage_rise"]
    after = results.iloc[6:]
    assert np.max(np.abs(after["pic"] - table["pic_aware"])) < 1e-12
    assert np.max(np.abs(after["rl"] - table["rl_aware"])) < 1e-12
    assert np.max(np.abs(after["p"] / results["p"].shift().iloc[6:] - 1 - table["pic_aware"])) < 1e-12
    for name in ("y", "c", "ydhs", "mh", "inv", "N"):
        assert relative(results[name], np.full(len(results), results[name][0])) < 1e-12, name


def _blind_steady_state(p, x, k, omega0):
    def consumption(pi):
        return p["alpha0"] / (
            1 - p["alpha1"] - p["alpha2"] * p["sigma_T"] * k - p["alpha1"] * p["sigma_T"] * k * pi / (1 + pi)
        )

    def gap(pi):
        wage_target = omega0 + p["Omega1"] * x["pr"] + p["Omega2"] * consumption(pi) / x["Nfe"]
        return p["Omega3"] * (wage_target - k) - pi

    pi = brentq(gap, 0.0, 0.1, xtol=1e-15)
    return pi, consumption(pi)


def test_disinf_households_blind_to_inflation_reach_the_closed_form_steady_state():
    model = drypowder.load("disinf")
    table = PUBLISHED["disinf"]["after_target_wage_rise"]
    p, x = model.parameters, model.exogenous
    k = 1 / ((1 + p["phi"]) * (1 + x["rrc"] * p["sigma_T"]))
    pi, consumption = _blind_steady_state(p, x, k, PUBLISHED["disinf"]["parameters"]["Omega0_after"])
    assert (pi, consumption) == pytest.approx((table["pic_blind"], table["c_blind"]), abs=1e-9)
    results = model.run(periods=700, changes=[ParameterChange("blind", 1.0, 1)])
    assert relative(results["pic"].iloc[-1], pi) < 1e-11
    assert relative(results["c"].iloc[-1], consumption) < 1e-10
    assert relative(results["mh"].iloc[-1], p["sigma_T"] * consumption * k) < 1e-10


# --- both models: accounting, the hidden equation, their own equations, rest, pysolve ------------------


@pytest.mark.parametrize("name", MODELS)
def test_both_matrices_balance_in_every_period(default_runs, name):
    _, results = default_runs[name]
    assert results.attrs["max_relative_imbalance"] < 1e-13


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_scenarios_balance_and_their_equations_hold(name):
    model, baseline, changed, scenario = scenario_runs(name)
    assert changed.attrs["max_relative_imbalance"] < 1e-13
    assert worst_residual(model, changed, scenario.changes) < 1e-9
    assert relative(changed.iloc[:5], baseline.iloc[:5]) < 1e-13  # nothing moves before the shock


@pytest.mark.parametrize("name", MODELS)
def test_the_hidden_equation_is_mh_equals_ms(name):
    model = drypowder.load(name)
    statuses = identities(model)
    assert [s.check.label for s in statuses if s.status == "fails"] == []
    # The book's hidden equation Mh = Ms. The Balance row (net worth = -IN) also holds only through history,
    # but it is the same equation (Ms = Ls = Ld = IN within every period): knocked off together, for ever.
    assert [s.equation for s in hidden_equations(statuses)] == ["Mh = Ms"]
    hidden_pair_is_one_equation(model, ("Mh",), lambda r: r["Mh"] - r["Ms"], lambda r: r["Mh"] - r["IN"])


@pytest.mark.parametrize("name", MODELS)
def test_every_equation_holds_and_mh_equals_ms_in_every_period(default_runs, name):
    model, results = default_runs[name]
    assert worst_residual(model, results) < 1e-9
    assert relative(results["Mh"], results["Ms"]) < 1e-13


@pytest.mark.parametrize("name", MODELS)
def test_stays_at_rest_without_the_shock(name):
    assert drift_from_start(drypowder.load(name).run(periods=40, shocks=[])) < 1e-12


@pytest.mark.parametrize("name", MODELS)
def test_agrees_with_pysolve(default_runs, name):
    model, results = default_runs[name]
    reference = run_pysolve(model, len(results) - 1)
    assert relative(results, reference[results.columns]) < 1e-8
