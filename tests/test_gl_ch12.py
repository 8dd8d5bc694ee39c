"""Godley & Lavoie ch. 12 (OPENFIX, OPENFIXR, OPENFIXG, OPENFLEX): Zezza's numbers, closed forms, pysolve,
the accounting in two currencies, and what the figures show.

The chapter prints no table of simulated values (its results are figures 12.1-12.7), so the printed
numbers tested are those of Zezza's EViews program (tests/data/gl_ch12.toml): the starting point, the
parameters and the shocks.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy

import drypowder
from drypowder.accounting import hidden_equations, identities
from drypowder.pysolve_bridge import run_pysolve
from drypowder.residuals import equation_residuals

DATA = tomllib.loads((Path(__file__).parent / "data" / "gl_ch12.toml").read_text())
MODELS = ["openfix", "openfixr", "openfixg", "openflex"]
FIGURE = {"openfix": "12.1", "openfixr": "12.2", "openfixg": "12.3", "openflex": "12.5"}
SHOCK = 5  # every experiment of the chapter starts in period 5


@pytest.fixture(scope="module")
def models():
    """The four models, each loaded (and compiled) once for the whole module."""
    return {name: drypowder.load(name) for name in MODELS}


@pytest.fixture(scope="module")
def runs(models):
    """Each model's default run: the experiment of its first figure."""
    return {name: (model, model.run()) for name, model in models.items()}


@pytest.fixture(scope="module")
def at_rest(models):
    """Each model run without its shock: it must stay at its starting point."""
    return {name: model.run(periods=20, shocks=[]) for name, model in models.items()}


@pytest.fixture(scope="module")
def scenarios(models):
    """The chapter's other experiments (figures 12.4, 12.6, 12.7), from the shipped scenario files."""
    out = {}
    for name in ("openfix_devaluation", "openflex_us_spending", "openflex_us_bills"):
        model = models[name.split("_")[0]]
        scenario, model = drypowder.read_scenario(name, model=model)
        out[name] = (scenario, model, drypowder.run_scenario(model, scenario))
    return out


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def stationary_residual(model, state: pd.Series) -> float:
    """Largest residual of the equations with every lag set to ``state``: zero at a rest point."""
    frame = pd.DataFrame([state, state], index=pd.Index([0, 1], name="period"))
    return float(equation_residuals(model, frame).abs().max().max())


# --- the starting point: Zezza's values, made exact ------------------------------------------------------


def test_the_four_models_start_from_one_and_the_same_state(models):
    reference = models["openflex"]  # its steady state is the common starting point
    for model in (models[name] for name in MODELS[:-1]):
        for name, value in model.initial.items():
            expected = reference.initial.get(name, reference.exogenous.get(name))
            assert value == expected, (model.name, name)
        # the fixed models' exogenous rate, reserves or Bank holdings are OPENFLEX's starting values
        for name, value in model.exogenous.items():
            assert value == reference.initial.get(name, reference.exogenous.get(name)), (model.name, name)
        assert model.parameters == reference.parameters


def test_the_starting_point_is_zezzas_to_his_five_digits(models):
    start = DATA["eviews"]["start"]
    model = models["openflex"]
    state = {**model.initial, **model.exogenous}
    worst = 0.0
    for name, value in start["values"].items():
        ours = state[name]
        if name in start["absolute"]:
            assert abs(ours - value) <= start["absolute"][name], name
            continue
        difference = abs(ours - value) / abs(value)
        assert difference <= start["loose"].get(name, start["tolerance"]), (name, ours, value)
        if name not in start["loose"]:
            worst = max(worst, difference)
    assert worst < 1e-4  # measured: 9.3e-5 (b_uk_s 138.953 against 138.94)


def test_parameters_and_exogenous_values_are_zezzas(models):
    for name, model in models.items():
        for key, value in DATA["eviews"]["parameters"].items():
            if isinstance(value, float):
                assert model.parameters[key] == value, (name, key)
        for key, value in DATA["eviews"]["exogenous"].items():
            if not isinstance(value, float):
                continue
            given = model.parameters.get(key, model.exogenous.get(key, model.initial.get(key)))
            # Zezza's xr_uk = 1.0003 and b_cb_ukuk = 0.27984 are the 5-digit roundings of ours
            assert given == pytest.approx(value, rel=5e-3 if key == "b_cb_ukuk_s" else 1e-7), (name, key)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_is_at_rest_at_its_start(models, at_rest, name):
    results = at_rest[name]
    assert relative(results, results.iloc[[0] * len(results)].set_axis(results.index)) < 1e-12
    assert stationary_residual(models[name], results.iloc[0]) < 1e-13


def test_the_starting_point_satisfies_the_closed_form_steady_state_relations(models):
    model = models["openflex"]
    s, p = pd.Series({**model.initial, **model.exogenous}), model.parameters
    for country in ("uk", "us"):
        alpha3 = (1 - p[f"alpha1_{country}"]) / p[f"alpha2_{country}"]
        assert s[f"v_k_{country}"] == pytest.approx(alpha3 * s[f"ydhs_k_{country}"], rel=1e-13)
        assert s[f"c_k_{country}"] == pytest.approx(s[f"ydhs_k_{country}"], rel=1e-13)
        # the government budget balances: spending plus interest = taxes plus central-bank profits
        spending = s[f"g_{country}"] + s[f"r_{country}"] * s[f"b_{country}_s"]
        assert spending == pytest.approx(s[f"t_{country}"] + s[f"f_cb_{country}"], rel=1e-13)
        # output is the sum of demands; prices are the mark-up on unit costs
        demand = s[f"cons_{country}"] + s[f"g_{country}"] + s[f"x_{country}"] - s[f"im_{country}"]
        assert s[f"y_{country}"] == pytest.approx(demand, rel=1e-13)
        costs = s[f"w_{country}"] * s[f"y_k_{country}"] / s[f"pr_{country}"] + s[f"im_{country}"]
        assert s[f"ps_{country}"] == pytest.approx((1 + p[f"phi_{country}"]) * costs / s[f"s_k_{country}"], rel=1e-13)
    assert abs(s["cab_uk"]) < 1e-12 and abs(s["cab_uk"] * s["xr_uk"] + s["cab_us"]) < 1e-12
    assert s["pg_uk"] * s["xr_uk"] == pytest.approx(p["pg_us"], rel=1e-15)


# --- every model: its own equations, its accounting, the hidden equation, pysolve ---------------------------


@pytest.mark.parametrize("name", MODELS)
def test_every_equation_holds_in_every_period(runs, name):
    model, results = runs[name]
    assert equation_residuals(model, results).abs().max().max() < 1e-12  # measured: 2.3e-15 at most


@pytest.mark.parametrize("name", MODELS)
def test_both_matrices_add_up_in_every_period(runs, name):
    _, results = runs[name]
    # A discrepancy in the hidden equation is a stock of bills that earns interest: it would compound at
    # 1 + r. Newton's extra step once the tolerance is met keeps it at rounding level (measured: 4e-15).
    assert results.attrs["max_relative_imbalance"] < 1e-13


@pytest.mark.parametrize("name", MODELS)
def test_the_hidden_equation_is_found_and_holds(runs, name):
    model, r = runs[name]
    hidden = hidden_equations(identities(model))
    # The '£ bills' row is the redundant equation. The 'Net worth' row and the central banks' columns hold
    # only through history too, but they restate it (rows add up to columns), so they are not reported.
    assert [h.check.name for h in hidden] == ["£ bills"]
    xr, b_cb, b_ukuk, b_usuk, b_uk = sympy.symbols("xr_uk b_cb_ukuk_d b_ukuk_d b_usuk_d b_uk_s")
    expected = xr * (b_cb + b_ukuk - b_uk) + b_usuk
    assert sympy.expand(hidden[0].expression - expected) == 0
    size = r["b_uk_s"].abs().max()  # as the accounting does: relative to the size of the row
    # The row holds through 100 periods of history, so rounding accumulates: measured up to 2.7e-14 of the
    # row's size (OPENFLEX on the numba back end; 8.5e-15 on numpy; auto picks either, by what is cached).
    if name == "openfixg":  # b_uk_s is set by (12.82AG): the row says the Bank's bills stay at their fixed level
        assert relative(r["b_cb_ukuk_d"], r["b_cb_ukuk_s"]) < 1e-13 * size
    else:  # (12.82A)
        assert relative(r["b_cb_ukuk_s"], r["b_uk_s"] - r["b_ukuk_s"] - r["b_usuk_s"]) < 1e-13 * size


@pytest.mark.parametrize("name", MODELS)
def test_the_balance_of_payments_and_sector_balances_add_up(runs, name):
    _, r = runs[name]
    rows = r.index >= 1
    # Each identity below is a difference of stocks of ~140 (bills) or of flows of ~100 (GDP): rounding
    # leaves ~1e-13 in absolute terms.
    size = r["b_us_s"].abs().max()
    # current accounts, converted into one currency, cancel; current plus capital account is zero
    assert relative((r["xr_uk"] * r["cab_uk"] + r["cab_us"])[rows], 0.0) < 1e-12 * size
    assert relative((r["cab_uk"] + r["kab_uk"])[rows], 0.0) < 1e-12 * size
    assert relative((r["cab_us"] + r["kab_us"])[rows], 0.0) < 1e-12 * size
    # households' saving out of regular income = government deficit + current account (NAFA)
    assert relative(r["nafa_uk"][rows], (r["yd_uk"] - r["cons_uk"])[rows]) < 1e-12 * size
    assert relative(r["nafa_us"][rows], (r["yd_us"] - r["cons_us"])[rows]) < 1e-12 * size
    # the Bank of England's net worth is its assets less the money it issued (its balance-sheet column)
    assets = r["b_cb_ukuk_d"] + r["b_cb_ukus_d"] + r["pg_uk"] * 7.0
    assert relative(r["nwcb_uk"], assets - r["h_uk_s"]) < 1e-12 * size


@pytest.mark.parametrize("name", MODELS)
def test_agrees_with_pysolve(runs, name):
    model, results = runs[name]
    reference = run_pysolve(model, len(results) - 1)  # Newton-Raphson, stopping at 1e-13
    assert list(reference.columns) == list(results.columns)
    assert relative(results, reference) < 1e-10  # measured: 7.7e-14 to 1.3e-12 (OPENFIXR, an unstable model)


# --- what the figures show ---------------------------------------------------------------------------------


def test_figure_12_1_fixed_rates_the_surplus_country_piles_up_reserves(runs):
    _, r = runs["openfix"]
    after = r.loc[SHOCK:]
    assert (after["cab_uk"] > 0.5).all()  # a lasting UK current account surplus
    assert (after["b_cb_ukus_s"].diff().iloc[1:] > 0).all()  # reserves rise every period, without end
    assert (after["psbr_uk"] < 0).all()  # the UK government runs a surplus
    debt_uk, debt_us = r["b_uk_s"] / r["y_uk"], r["b_us_s"] / r["y_us"]
    assert debt_uk.iloc[-1] < debt_uk[0] < debt_us[0] < debt_us.iloc[-1]  # 12.1C: the ratios diverge


def test_figure_12_2_the_uk_interest_rate_rises_without_end(runs):
    _, r = runs["openfixr"]
    assert r["b_cb_ukus_s"].nunique() == 1  # reserves stay put ...
    assert (r["r_uk"].loc[SHOCK:].diff().iloc[1:] > 0).all()  # ... because the UK rate keeps rising
    assert r["r_uk"][45] > 0.1  # 12.2B: above 10% some 40 periods after the shock
    assert (r["kabp_uk"].loc[SHOCK + 1 :] > 0).all()  # capital flows in to finance the deficit


def test_figure_12_3_uk_spending_cuts_close_the_deficit(runs):
    _, r = runs["openfixg"]
    assert r["b_cb_ukuk_s"].nunique() == 1
    assert r["g_k_uk"].iloc[-1] < r["g_k_uk"][0] - 1.5  # UK real government expenditure falls
    assert r["y_k_uk"].iloc[-1] < r["y_k_uk"][0] - 10  # and UK real GDP with it (12.3A)
    assert (r["cab_uk"].loc[SHOCK:] < 0).all() and abs(r["cab_uk"].iloc[-1]) < 0.01  # the deficit closes


def test_figure_12_4_a_successful_devaluation(scenarios):
    scenario, _, (baseline, r) = scenarios["openfix_devaluation"]
    pd.testing.assert_frame_equal(baseline.loc[: SHOCK - 1], r.loc[: SHOCK - 1])  # identical up to the shock
    assert (r["cab_uk"].loc[SHOCK:9] < -0.5).all()  # the deficit before the devaluation of period 10
    assert r["xr_uk"][10] == 0.8375
    assert r["cab_uk"].iloc[-1] > 0 and r["y_k_uk"].iloc[-1] > r["y_k_uk"][9]  # the current account recovers
    assert r.attrs["max_relative_imbalance"] < 1e-13


def test_figure_12_5_the_pound_depreciates_and_import_prices_rise(runs):
    _, r = runs["openflex"]
    assert r["b_cb_ukus_s"].nunique() == 1
    assert (r["xr_uk"].loc[SHOCK:].diff().iloc[1:] < 0).all()  # the pound falls every period ...
    assert r["xr_uk"].iloc[-1] < 0.8  # ... by more than 20%
    assert r["pm_uk"].iloc[-1] > r["px_uk"].iloc[-1] > r["pds_uk"][0]  # 12.5C
    assert r["y_k_uk"].iloc[-1] > r["y_k_uk"][SHOCK]  # UK output recovers from the export loss (12.5D)


def test_the_flexible_rate_model_settles_down(runs):
    _, r = runs["openflex"]
    changes = (r.diff().abs() / r.abs().clip(lower=1)).max(axis=1)  # the largest relative change per period
    assert changes.iloc[-1] < 0.02 * changes[SHOCK + 1]
    rate = (changes.iloc[-1] / changes.iloc[-21]) ** (1 / 20)
    assert 0.95 < rate < 0.97  # the slowest mode at the starting point decays by 0.963 a period


def test_figure_12_6_us_government_spending_weakens_the_dollar(scenarios):
    _, _, (baseline, r) = scenarios["openflex_us_spending"]
    assert relative(baseline, baseline.iloc[[0] * len(baseline)].set_axis(baseline.index)) < 1e-12  # at rest
    assert r["y_k_us"].iloc[-1] > r["y_k_us"][0] + 10  # 12.6A
    assert (r["xr_us"].loc[SHOCK:].diff().iloc[1:] < 0).all()  # 12.6D: the dollar depreciates
    share_in_pounds = r["b_ukus_d"] / r["v_uk"]
    share_in_dollars = r["b_ukus_s"] / r["v_uk"]  # the same bills at the starting exchange rate
    assert share_in_pounds.iloc[-1] < share_in_dollars.iloc[-1]  # 12.6C: the dollar's fall shrinks the £ value


def test_figure_12_7_the_dollar_jumps_when_us_bills_are_wanted(scenarios):
    scenario, _, (_, r) = scenarios["openflex_us_bills"]
    assert [(c.name, c.value, c.start) for c in scenario.changes] == [("lambda20", 0.3, 5), ("lambda40", 0.75, 5)]
    assert r["xr_us"][SHOCK] > 1.1 * r["xr_us"][SHOCK - 1]  # 12.7A: the dollar appreciates at once
    assert r["xr_us"].iloc[-1] < r["xr_us"][SHOCK]  # and then falls back


@pytest.mark.parametrize("name", ["openfix_devaluation", "openflex_us_spending", "openflex_us_bills"])
def test_scenarios_share_the_baseline_history_and_balance(scenarios, name):
    scenario, _, (baseline, changed) = scenarios[name]
    first = scenario.first_period
    assert first == SHOCK
    pd.testing.assert_frame_equal(baseline.loc[: first - 1], changed.loc[: first - 1])
    assert changed.attrs["max_relative_imbalance"] < 1e-13
