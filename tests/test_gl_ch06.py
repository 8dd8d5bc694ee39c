"""Models REG and OPEN (Godley & Lavoie 2007, ch. 6) against EViews output, closed forms, pysolve and their own
equations. The helpers at the top are shared with test_gl_ch07.py."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import numpy as np
import pytest

import drypowder
from drypowder.accounting import hidden_equations, identities
from drypowder.errors import ConvergenceError
from drypowder.pysolve_bridge import run_pysolve
from drypowder.residuals import equation_residuals
from drypowder.steady import steady_state

DATA = tomllib.loads((Path(__file__).parent / "data" / "gl_ch06.toml").read_text())
MODELS = ["reg", "open"]
SCENARIOS = ["reg_government_spending", "reg_propensity_to_save", "reg_liquidity_preference", "open_propensity_to_save"]
HIDDEN = {
    "reg": ["Hh_N + Hh_S = Hs"],
    # OPEN: the world's gold is conserved (the book's hidden equation, d(or_N) = -d(or_S)).
    "open": ["or_N*pg_N + or_S*pg_S = or_world*pg_N"],
}


# --- shared helpers (test_gl_ch07.py imports these) -----------------------------------------------------------


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


@functools.cache
def default_run(name: str):
    """A model and its default run (the book's experiment); treat both as read-only."""
    model = drypowder.load(name)
    return model, model.run()


def largest_residual(name: str) -> float:
    model, results = default_run(name)
    return float(equation_residuals(model, results).abs().max().max())


def pysolve_difference(name: str) -> float:
    model, results = default_run(name)
    reference = run_pysolve(model, len(results) - 1)
    assert list(reference.columns) == list(results.columns)
    return relative(results, reference)


def hidden(name: str) -> list[str]:
    return [status.equation for status in hidden_equations(identities(drypowder.load(name)))]


def drift_at_rest(name: str, periods: int = 40) -> float:
    """How far a run without the experiment moves from the initial state (0 at an exact steady state)."""
    results = drypowder.load(name).run(periods=periods, shocks=[])
    return relative(results, results.iloc[[0] * len(results)].set_axis(results.index))


def scenario_pair(scenario_name: str, periods: int | None = None):
    """(scenario, baseline, changed) of a shipped scenario, optionally over more periods."""
    scenario, model = drypowder.read_scenario(scenario_name)
    if periods is not None:
        scenario.periods = periods
    baseline, changed = drypowder.run_scenario(model, scenario)
    return scenario, baseline, changed


def assert_scenario_departs_at(scenario_name: str, period: int) -> None:
    """Baseline and scenario agree to the bit before ``period`` and differ from it on; both balance."""
    _, baseline, changed = scenario_pair(scenario_name)
    assert baseline.loc[: period - 1].equals(changed.loc[: period - 1])
    assert not np.allclose(baseline.loc[period:].to_numpy(), changed.loc[period:].to_numpy())
    assert max(baseline.attrs["max_relative_imbalance"], changed.attrs["max_relative_imbalance"]) < 1e-13


def model_checks(models: list[str], hidden_of: dict[str, list[str]], scenarios: list[str]) -> dict:
    """The tests every chapter's models share, for a test module to take into its namespace (pytest collects them):
    equations hold every period, both matrices balance, the hidden equation is found, rest without the experiment,
    agreement with pysolve, and each shipped scenario departs from its baseline in period 5."""

    @pytest.mark.parametrize("name", models)
    def test_every_equation_holds_in_every_period(name):
        assert largest_residual(name) < 1e-9

    @pytest.mark.parametrize("name", models)
    def test_both_matrices_balance_in_every_period(name):
        assert default_run(name)[1].attrs["max_relative_imbalance"] < 1e-13

    @pytest.mark.parametrize("name", models)
    def test_the_hidden_equation_is_found(name):
        assert hidden(name) == hidden_of[name]

    @pytest.mark.parametrize("name", models)
    def test_stays_at_rest_without_the_experiment(name):
        assert drift_at_rest(name) < 1e-12

    @pytest.mark.parametrize("name", models)
    def test_agrees_with_pysolve(name):
        assert pysolve_difference(name) < 1e-8

    @pytest.mark.parametrize("scenario", scenarios)
    def test_scenario_departs_from_its_baseline_in_period_5(scenario):
        assert_scenario_departs_at(scenario, 5)

    tests = [
        test_every_equation_holds_in_every_period,
        test_both_matrices_balance_in_every_period,
        test_the_hidden_equation_is_found,
        test_stays_at_rest_without_the_experiment,
        test_agrees_with_pysolve,
        test_scenario_departs_from_its_baseline_in_period_5,
    ]
    return {test.__name__: test for test in tests}


# --- closed forms -------------------------------------------------------------------------------------------------


def regional_stationary_state(values: dict) -> dict:
    """The stationary flows of REG (and of OPEN's private sectors), from equations 6.1-6.26 (gl_ch06.toml)."""
    k, share = {}, {}
    for i in "NS":
        alpha3 = (1 - values[f"alpha1_{i}"]) / values[f"alpha2_{i}"]
        share[i] = alpha3 * (values[f"lambda0_{i}"] + values[f"lambda1_{i}"] * values["r"]) - values[f"lambda2_{i}"]
        k[i] = (1 - values["theta"]) / (1 - (1 - values["theta"]) * values["r"] * share[i])
    mu_n, mu_s = values["mu_N"], values["mu_S"]
    matrix = np.array([[1 - k["N"] + mu_n, -mu_s], [-mu_n, 1 - k["S"] + mu_s]])
    y_n, y_s = np.linalg.solve(matrix, [values["G_N"], values["G_S"]])
    out = {"Y_N": y_n, "Y_S": y_s, "YD_N": k["N"] * y_n, "YD_S": k["S"] * y_s, "TB_S": mu_n * y_n - mu_s * y_s}
    for i in "NS":
        alpha3 = (1 - values[f"alpha1_{i}"]) / values[f"alpha2_{i}"]
        out[f"V_{i}"] = alpha3 * out[f"YD_{i}"]
        out[f"Bh_{i}"] = share[i] * out[f"YD_{i}"]
        out[f"Hh_{i}"] = out[f"V_{i}"] - out[f"Bh_{i}"]
    return out


def reg_values(**changes) -> dict:
    model = drypowder.load("reg")
    return {**model.parameters, **model.exogenous, **changes}


CASES = {  # the columns of [reg.steady_state]: (changes, shipped scenario or None for the default experiment)
    "mu_S = 0.20781": ({"mu_S": 0.20781}, None),
    "G_S = 25": ({"G_S": 25.0}, "reg_government_spending"),
    "alpha1_S = 0.6": ({"alpha1_S": 0.6}, "reg_propensity_to_save"),
    "lambda0_S = 0.75": ({"lambda0_S": 0.75}, "reg_liquidity_preference"),
}


# --- REG ---------------------------------------------------------------------------------------------------------


def test_reg_follows_the_eviews_path_after_the_import_propensity_rise():
    _, results = default_run("reg")
    table = DATA["reg"]["import_propensity_eviews"]
    for name in ("YD_S", "Y_N", "C_N", "YD_N", "Hh_N"):
        first = table[f"{name}_first_period"]
        published = np.array(table[name])
        ours = results[name].to_numpy()[first : first + len(published)]
        decimals = 2 if name in ("YD_N", "Hh_N") else None
        if decimals:  # printed to 2 decimals: ours must round to the same
            assert np.array_equal(np.round(ours, decimals), published), name
        else:
            assert np.max(np.abs(ours - published)) < table["tolerance"], name


def test_reg_starts_at_its_closed_form_steady_state():
    model, results = default_run("reg")
    closed = regional_stationary_state(reg_values())
    table = DATA["reg"]["steady_state"]
    for name in ("Y_N", "Y_S", "YD_N", "YD_S", "V_N", "V_S", "Bh_N", "Bh_S", "Hh_N", "Hh_S"):
        assert relative(results[name][0], closed[name]) < 1e-14, name
    for name in ("Y_N", "Y_S", "YD_S", "TB_S"):
        assert closed[name] == pytest.approx(table[name][0], abs=1e-6)
    assert relative(results["Hs"][0], closed["Hh_N"] + closed["Hh_S"]) < 1e-14
    assert model.initial["IM_S"] == pytest.approx(20.0, abs=1e-3)  # mu = 0.18781 makes imports ~ G


@pytest.mark.parametrize("case", list(CASES))
def test_reg_reaches_the_closed_form_steady_state_of_each_experiment(case):
    changes, scenario = CASES[case]
    if scenario is None:
        results = drypowder.load("reg").run(periods=300)
    else:
        _, _, results = scenario_pair(scenario, periods=300)
    closed = regional_stationary_state(reg_values(**changes))
    table = DATA["reg"]["steady_state"]
    column = table["case"].index(case)
    last = results.iloc[-1]
    for name in ("Y_N", "Y_S", "YD_S", "V_S", "Bh_S", "Hh_N"):
        assert relative(last[name], closed[name]) < 1e-9, name
    trade = last["X_S"] - last["IM_S"]
    government = last["T_S"] - last["G_S"] - last["r"] * results["Bh_S"].iloc[-2]
    assert trade == pytest.approx(closed["TB_S"], abs=1e-9)
    assert government == pytest.approx(trade, abs=1e-9)  # twin deficits in a stationary state
    for name in ("Y_N", "Y_S", "YD_S", "TB_S"):
        assert closed[name] == pytest.approx(table[name][column], abs=1e-6), name


def test_reg_steady_state_solver_agrees_with_the_closed_form():
    model = drypowder.load("reg")
    solved = steady_state(model, exogenous={"mu_S": 0.20781})
    closed = regional_stationary_state(reg_values(mu_S=0.20781))
    assert solved.stable and solved.unit_roots == 2
    for name in ("Y_N", "Y_S", "V_N", "V_S", "Bh_N", "Hh_S"):
        assert relative(solved.values[name], closed[name]) < 1e-10, name


def test_reg_uses_zezzas_parameter_values():
    model = drypowder.load("reg")
    table = DATA["reg"]["parameters_eviews"]
    values = {**model.parameters, **model.exogenous}
    for name in ("alpha1_N", "alpha1_S", "alpha2_N", "alpha2_S", "lambda0_N", "lambda0_S", "lambda1_N", "lambda1_S"):
        assert values[name] == table[name], name
    for name in ("lambda2_N", "lambda2_S", "mu_N", "mu_S", "theta", "G_N", "G_S", "r"):
        assert values[name] == table[name], name


# --- OPEN --------------------------------------------------------------------------------------------------------


def test_open_private_sectors_follow_reg_exactly():
    """With xr = 1 the households and firms of OPEN obey REG's equations: the same shock, the same paths."""
    _, reg = default_run("reg")
    _, open_ = default_run("open")
    for name in ("Y_N", "Y_S", "YD_N", "YD_S", "C_S", "V_N", "V_S", "Bh_S", "Hh_S", "X_S", "IM_S"):
        assert relative(open_[name], reg[name]) < 1e-13, name


def test_open_central_banks_settle_the_trade_balance_in_gold_every_period():
    model, results = default_run("open")
    gold_s = results["pg_S"] * results["or_S"].diff()
    gold_n = model.parameters["pg_N"] * results["or_N"].diff()
    trade = results["X_S"] - results["IM_S"]
    assert np.max(np.abs((gold_s - trade).iloc[1:])) < 1e-12
    assert np.max(np.abs((gold_s + gold_n).iloc[1:])) < 1e-12  # the hidden equation, as a flow
    assert relative(results["or_N"] + results["or_S"], DATA["open"]["eviews_program"]["or_n"] * 2) < 1e-13


def test_open_south_loses_gold_without_end_and_has_no_steady_state():
    results = drypowder.load("open").run(periods=300)
    flow = DATA["open"]["long_run"]["gold_flow_S"][0]
    closed = regional_stationary_state(reg_values(mu_S=0.20781))["TB_S"]
    assert closed == pytest.approx(flow, abs=1e-6)
    assert results["or_S"].diff().iloc[-1] == pytest.approx(closed, abs=1e-9)
    # figure 6.10: in the long run the central bank buys bills to replace the gold it loses, money stays put
    assert results["Bcb_S"].diff().iloc[-1] == pytest.approx(-closed, abs=1e-9)
    assert abs(results["Hh_S"].diff().iloc[-1]) < 1e-9
    assert results["or_S"].iloc[20] < 0  # nothing in the model stops the gold from running out
    with pytest.raises(ConvergenceError, match="no steady state"):
        steady_state(drypowder.load("open"), exogenous={"mu_S": 0.20781})


def test_open_propensity_to_save_scenario_ends_with_a_small_permanent_gold_drain():
    _, _, results = scenario_pair("open_propensity_to_save", periods=300)
    closed = regional_stationary_state(reg_values(alpha1_S=0.6))
    assert closed["TB_S"] == pytest.approx(DATA["open"]["long_run"]["gold_flow_S"][1], abs=1e-6)
    assert results["or_S"].diff().iloc[-1] == pytest.approx(closed["TB_S"], abs=1e-9)
    assert results["or_S"].diff().loc[5] > 0  # at first the South's imports fall and it gains gold
    assert relative(results[["Y_N", "Y_S"]].iloc[-1], [closed["Y_N"], closed["Y_S"]]) < 1e-9


def test_open_starts_at_the_exact_point_zezzas_rounded_values_stand_for():
    model = drypowder.load("open")
    program = DATA["open"]["eviews_program"]
    for ours, theirs in [("Bcb_N", "b_cb_n"), ("Bh_S", "b_h_s"), ("Bs_N", "b_s_n"), ("or_S", "or_s"), ("V_N", "v_n")]:
        assert model.initial[ours] == pytest.approx(program[theirs], abs=1e-3), ours
    closed = regional_stationary_state(reg_values())
    assert relative(model.initial["Hs_S"], closed["Hh_S"]) < 1e-14
    assert relative(model.initial["Bcb_S"] + model.initial["pg_S"] * model.initial["or_S"], closed["Hh_S"]) < 1e-14
    assert model.spec.experiment.shocks[0].value == program["mu_s_experiment"]


# --- both models: their own equations, the accounting, rest, pysolve, scenarios -----------------------------------

globals().update(model_checks(MODELS, HIDDEN, SCENARIOS))
