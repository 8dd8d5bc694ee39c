"""Models BMW and BMWK (Godley & Lavoie 2007, ch. 7) against closed forms, the replications' values, pysolve and
their own equations; and how the hidden equation's rounding error compounds at the interest rate."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from test_gl_ch06 import default_run, drift_at_rest, model_checks, relative, scenario_pair

import drypowder
from drypowder import AccountingError
from drypowder.steady import steady_state

DATA = tomllib.loads((Path(__file__).parent / "data" / "gl_ch07.toml").read_text())
MODELS = ["bmw", "bmwk"]
SCENARIOS = ["bmw_propensity_to_save", "bmw_rate_rise"]
# Ls = Ld holds only through history too, but it is equation 7.4 summed over time, not a left-out equation.
HIDDEN = ["Mh = Ms"]


def bmw_output(p: dict) -> float:
    """Y* of BMW ([bmw.steady_state]); it does not depend on the interest rate."""
    return p["alpha0"] / ((1 - p["alpha1"]) * (1 - p["delta"] * p["kappa"]) - p["alpha2"] * p["kappa"])


def bmwk_output(p: dict) -> float:
    """Y* of BMWK ([bmwk.steady_state]): a higher rl moves income from wages to interest, which is consumed less."""
    kappa, wages = p["kappa"], 1 - (p["rl"] + p["delta"]) * p["kappa"]
    denominator = 1 - p["delta"] * kappa - p["alpha1w"] * wages - p["alpha1r"] * p["rl"] * kappa - p["alpha2"] * kappa
    return p["alpha0"] / denominator


def values_of(name: str, **changes) -> dict:
    model = drypowder.load(name)
    return {**model.parameters, **model.exogenous, **changes}


def assert_stationary(results, p: dict, output: float) -> None:
    """The last period is the stationary state of [bmw.steady_state] with output ``output``."""
    last = results.iloc[-1]
    kappa, delta = p["kappa"], p["delta"]
    expected = {
        "Y": output,
        "K": kappa * output,
        "Mh": kappa * output,
        "Ld": kappa * output,
        "Id": delta * kappa * output,
        "YD": (1 - delta * kappa) * output,
        "Cd": (1 - delta * kappa) * output,
        "W": 1 - (p["rl"] + delta) * kappa,
    }
    for name, value in expected.items():
        assert relative(last[name], value) < 1e-9, name


# --- BMW ---------------------------------------------------------------------------------------------------------


def test_bmw_starts_at_the_closed_form_steady_state_zezzas_values_give():
    model = drypowder.load("bmw")
    table = DATA["bmw"]["eviews_starting_values"]
    values = values_of("bmw")
    for name, value in table["parameters"].items():
        assert values[name] == value, name
    for name in ("Mh", "Ms", "Ld", "Ls", "K", "Y", "W"):
        assert model.initial[name] == table[name], name
    assert bmw_output(values) == DATA["bmw"]["steady_state"]["Y"][0]
    assert drift_at_rest("bmw") == 0.0  # round numbers: the rest point is exact in floating point


@pytest.mark.parametrize(
    "case, scenario, changes",
    [
        ("alpha0 = 28", None, {"alpha0": 28.0}),
        ("alpha1 = 0.74", "bmw_propensity_to_save", {"alpha1": 0.74}),
        ("rl = 0.05", "bmw_rate_rise", {"rl": 0.05}),
    ],
)
def test_bmw_reaches_the_closed_form_steady_state_of_each_experiment(case, scenario, changes):
    if scenario is None:
        results = drypowder.load("bmw").run(periods=200)
    else:
        _, _, results = scenario_pair(scenario, periods=200)
    p = values_of("bmw", **changes)
    assert_stationary(results, p, bmw_output(p))
    table = DATA["bmw"]["steady_state"]
    column = table["case"].index(case)
    assert bmw_output(p) == pytest.approx(table["Y"][column], abs=1e-6)
    assert results["YD"].iloc[-1] == pytest.approx(table["YD"][column], abs=1e-6)
    assert results["W"].iloc[-1] == pytest.approx(table["W"][column], abs=1e-12)
    assert results["Y"].iloc[-1] / results["K"].iloc[-2] == pytest.approx(table["Y_over_K"][column], abs=1e-9)


def test_bmw_paradox_of_thrift_output_falls_for_good():
    """Figures 7.3-7.4: a higher propensity to save lowers output on impact and in the long run."""
    _, baseline, changed = scenario_pair("bmw_propensity_to_save", periods=200)
    assert changed["Y"].loc[5] < baseline["Y"].loc[5]
    assert changed["Y"].iloc[-1] < baseline["Y"].iloc[-1] - 13  # 200 -> 186.57
    ratio = changed["Y"] / changed["K"].shift()
    assert ratio.loc[5] < 1 and ratio.iloc[-1] == pytest.approx(1.0, abs=1e-9)


def test_bmw_steady_state_solver_agrees_and_sees_the_compounding_mode():
    model = drypowder.load("bmw")
    solved = steady_state(model, exogenous={"alpha0": 28.0})
    assert relative(solved.values["Y"], 224.0) < 1e-12
    assert relative(solved.values["Mh"], 224.0) < 1e-12
    # The period map has the eigenvalue 1 + rl: a gap Mh - Ms earns interest (see test_the_gap_compounds...).
    assert np.max(np.abs(solved.eigenvalues)) == pytest.approx(1 + model.exogenous["rl"], abs=1e-9)


# --- BMWK --------------------------------------------------------------------------------------------------------


def test_bmwk_a_higher_loan_rate_lowers_output_for_good():
    """Figure 7.8: Y* falls from 5000/27 = 185.19 to 2000/11 = 181.82 when rl rises from 4% to 5%."""
    model, results = default_run("bmwk")
    table = DATA["bmwk"]["steady_state"]
    before, after = values_of("bmwk"), values_of("bmwk", rl=0.05)
    assert relative(bmwk_output(before), 5000 / 27) < 1e-15
    assert relative(bmwk_output(after), 2000 / 11) < 1e-15
    for column, p in enumerate((before, after)):
        assert bmwk_output(p) == pytest.approx(table["Y"][column], abs=1e-6)
    assert relative(results["Y"][0], bmwk_output(before)) < 1e-15
    long = model.run(periods=200)
    assert_stationary(long, after, bmwk_output(after))
    assert long["YD"].iloc[-1] == pytest.approx(table["YD"][1], abs=1e-6)
    # interest is paid at last period's rate, so output first falls in period 6, the period after the rise
    assert results["Y"].loc[5] == results["Y"].loc[4] and results["Y"].loc[6] < results["Y"].loc[5]
    replication = DATA["bmwk"]["replication_values"]
    assert {name: before[name] for name in replication["parameters"]} == replication["parameters"]


# --- the hidden equation's gap compounds at the interest rate ------------------------------------------------------


@pytest.mark.parametrize("name, key", [("bmw", "bmw"), ("bmwk", "bmwk_after_rise")])
def test_the_gap_in_the_hidden_equation_compounds_at_the_loan_rate(name, key):
    """Mh - Ms = (1 + rl(-1)) (Mh(-1) - Ms(-1)): rounding error grows by (1 + rl) a period (gl_ch07.toml)."""
    model = drypowder.load(name)
    rate = model.run(periods=5)["rl"].iloc[-1]  # the loan rate of the experiment, after any change
    assert 1 + rate == DATA["compounding"]["hidden_equation"]["growth_per_period"][key]
    results = model.run(periods=500, backend="numpy", check_accounting=False)
    gap = (results["Mh"] - results["Ms"]).to_numpy()
    size = (results["Mh"].abs() + results["Ms"].abs()).to_numpy()
    assert np.max(np.abs(gap[:61]) / size[:61]) < 1e-13  # the default horizon is unaffected
    growth = gap[451:] / gap[450:-1]  # by now the gap dwarfs each period's fresh rounding error
    assert np.max(np.abs(growth - (1 + rate))) < 1e-6


def test_the_compounding_gap_limits_the_horizon_of_bmw():
    model = drypowder.load("bmw")
    assert model.run(periods=300, backend="numpy").attrs["max_relative_imbalance"] < 1e-10
    with pytest.raises(AccountingError, match="row 'Money deposits' does not add up in period"):
        model.run(periods=600, backend="numpy")


# --- both models: their own equations, the accounting, rest, pysolve, scenarios -----------------------------------

globals().update(model_checks(MODELS, dict.fromkeys(MODELS, HIDDEN), SCENARIOS))


def test_loans_identity_is_recognised_as_equation_7_4_summed():
    from drypowder.accounting import identities

    loans = next(s for s in identities(drypowder.load("bmw")) if s.check.label == "balance sheet, row 'Loans'")
    assert (loans.status, loans.equation, loans.integrates) == ("stock identity", "Ls = Ld", "Ls")
