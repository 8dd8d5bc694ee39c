"""Model GROWTH (Godley & Lavoie 2007, ch. 11): balanced growth, accounting, experiments, pysolve, back ends."""

from __future__ import annotations

import importlib.util
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

import drypowder
from drypowder.accounting import hidden_equations, identities
from drypowder.pysolve_bridge import run_pysolve
from drypowder.residuals import equation_residuals

DATA = tomllib.loads((Path(__file__).parent / "data" / "gl_ch11.toml").read_text())["growth"]
# Long runs use the compiled period loop when numba is there (it is compiled once, for the numba test).
LONG = "numba" if importlib.util.find_spec("numba") else "numpy"
SCENARIOS = sorted(p.stem for p in (Path(drypowder.__file__).parent.parent / "equations").rglob("growth_*.toml"))

# Scale-free ratios and rates that are constant on a balanced-growth path.
RATIOS = {
    "K/Y": lambda r: r.K / r.Y,
    "V/Y": lambda r: r.V / r.Y,
    "GD/Y": lambda r: r.GD / r.Y,
    "IN/Y": lambda r: r.IN / r.Y,
    "Lfd/IN": lambda r: r.Lfd / r.IN,
    "Lhd/YDr": lambda r: r.Lhd / r.YDr,
    "Mh/V": lambda r: r.Mh / r.V,
    "equities/V": lambda r: r.Pe * r.Eks / r.V,
    "real wage/PR": lambda r: r.W / (r.P * r.PR),
    **{name: (lambda r, name=name: r[name]) for name in ("PI", "Rm", "Rl", "BLR", "CAR", "phi", "U", "Q", "PE", "GRk")},
}


def relative(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def growth_factors(results, names, period):
    return {name: results[name].iloc[period] / results[name].iloc[period - 1] for name in names}


def eviews_start(model) -> dict[str, float]:
    """The EViews starting values with the stock identities imposed (the stocks they imply)."""
    x = dict(DATA["eviews_start"]["values"])
    p, e = model.parameters, model.exogenous
    x["Pbl"] = 1 / (e["Rbbar"] + e["ADDbl"])
    x["Ms"], x["Lfs"], x["Lhs"], x["Bhs"], x["BLs"] = x["Mh"], x["Lfd"], x["Lhd"], x["Bhd"], x["BLd"]
    x["Hbd"] = x["Hbs"] = p["ro"] * x["Ms"]
    x["Hhd"] = x["Hhs"] = p["lambdac"] * x["CONS"]
    x["Hs"] = x["Bcbd"] = x["Bcbs"] = x["Hbd"] + x["Hhd"]
    x["Bbd"] = x["Bbs"] = x["Ms"] + x["OFb"] - x["Lfs"] - x["Lhs"] - x["Hbd"]
    x["Bs"] = x["Bhs"] + x["Bbs"] + x["Bcbs"]
    x["GD"] = x["Bs"] + x["BLs"] * x["Pbl"]
    x["V"] = x["Hhd"] + x["Mh"] + x["Bhd"] + x["Pbl"] * x["BLd"] + x["Pe"] * x["Ekd"] + x["OFb"] - x["Lhd"]
    x["Vfma"], x["Vk"] = x["V"] - x["Hhd"] - x["OFb"], x["V"] / x["P"]
    x["K"], x["IN"] = x["Kk"] * x["P"], x["INk"] * x["UC"]
    x["Vf"], x["Ls"] = x["IN"] + x["K"] - x["Lfd"] - x["Ekd"] * x["Pe"], x["Lfs"] + x["Lhs"]
    return {name: float(x.get(name, 0.0)) for name in model.spec.endogenous}


@pytest.fixture(scope="module")
def model():
    return drypowder.load("growth")


@pytest.fixture(scope="module")
def default_run(model):
    return model.run(backend="numpy")


@pytest.fixture(scope="module")
def balanced(model):
    return model.run(periods=200, shocks=[], backend="numpy")


# --- the starting point: balanced growth, at full precision ----------------------------------------------


def test_every_row_and_column_adds_up_from_period_0(default_run, balanced):
    assert default_run.attrs["max_relative_imbalance"] < 1e-13
    assert balanced.attrs["max_relative_imbalance"] < 1e-13


def test_the_run_grows_in_balance_from_period_0(balanced):
    r, g, pi = balanced, 0.03, balanced.PI.iloc[0]
    for name, ratio in RATIOS.items():
        assert relative(ratio(r), ratio(r).iloc[0]) < 1e-12, name
    for t in (1, 100, 200):
        for name, f in growth_factors(r, ["Yk", "Ck", "Ik", "Kk", "Vk", "PR", "Gk"], t).items():
            assert f == pytest.approx(1 + g, abs=1e-13), (name, t)
        for name, f in growth_factors(r, ["Y", "V", "Lfd", "Mh", "GD", "W", "OFb"], t).items():
            assert f == pytest.approx((1 + g) * (1 + pi), abs=1e-12), (name, t)
    assert relative(r.ER, 1.0) < 1e-13 and relative(r.N, r.Nt) < 1e-13


def test_balanced_growth_satisfies_its_closed_forms(model, balanced):
    x, p, e = balanced.iloc[0], model.parameters, model.exogenous
    g, pi = e["GRpr"], x.PI
    assert x.U == pytest.approx((g - p["gamma0"] + p["gammar"] * x.RRl) / p["gammau"], rel=1e-12)
    real_wage = x.W / (x.P * x.PR)
    wages = p["omega3"] * math.exp(e["omega0"]) * (1 + g) / ((1 + g) * (1 + pi) - 1 + p["omega3"])
    prices = 1 / ((1 + x.phi) * ((1 - p["sigman"]) + p["sigman"] * (1 + e["Rln"]) / (1 + pi)))
    assert real_wage == pytest.approx(wages, rel=1e-12)
    assert real_wage == pytest.approx(prices, rel=1e-12)
    assert x.N == pytest.approx(x.Yk / x.PR, rel=1e-12)


def test_the_eviews_start_converges_to_our_balanced_growth_path(model):
    """A long run from the book's (consistent) start ends with the ratios our starting point has."""
    runner = model.copy()
    runner.initial = eviews_start(model)
    long = runner.run(periods=800, shocks=[], backend=LONG)
    assert long.attrs["max_relative_imbalance"] < 1e-12
    start = model.initial
    ours = model.run(periods=1, shocks=[], backend="numpy")
    for name, ratio in RATIOS.items():
        assert relative(ratio(long).iloc[-1], ratio(ours).iloc[0]) < 1e-9, name
    for name, f in growth_factors(long, ["Yk", "Kk", "Ck"], len(long) - 1).items():
        assert f == pytest.approx(1.03, abs=1e-10), name
    # the units are the book's: productivity, prices and shares as in the EViews start, ER = 1
    book = DATA["eviews_start"]["values"]
    for name in ("PR", "P", "Eks", "ER"):
        assert start[name] == pytest.approx(book[name], rel=1e-14), name
    assert start["Yk"] == pytest.approx(model.exogenous["Nfe"] * book["PR"], rel=1e-12)


def test_the_eviews_start_is_near_but_not_on_balanced_growth(model):
    """Largest differences to the book's starting values, as documented in growth.toml."""
    book, start = DATA["eviews_start"]["values"], model.initial
    levels = ["Yk", "Ck", "Kk", "Ik", "Gk", "Y", "S", "WB", "V", "CONS", "INV", "K", "W", "P", "PR", "N"]
    assert max(abs(start[n] / book[n] - 1) for n in levels) < 0.015
    assert start["PI"] == pytest.approx(0.0069888, abs=1e-7) and book["PI"] == 0.0026
    assert start["Rm"] == pytest.approx(book["Rm"] + 2 * model.parameters["xim1"], abs=1e-15)
    assert model.parameters["bot"] < start["BLR"] < model.parameters["top"] < book["BLR"] + 0.02


# --- the equations and the hidden equation -----------------------------------------------------------------


def test_every_equation_holds_in_every_period(model, default_run):
    assert equation_residuals(model, default_run).abs().max().max() < 1e-9


def test_the_hidden_equation_is_bbs_equals_bbd(model, default_run):
    statuses = identities(model)
    assert [s.check.label for s in statuses if s.status == "fails"] == []
    hidden = [s.check.label for s in hidden_equations(statuses)]
    # The Bills row holds only through Bbs = Bbd. The net-worth row needs history too, but it restates
    # the Bills row and the government's column, so it is not a hidden equation of its own.
    assert hidden == ["balance sheet, row 'Bills'"]
    assert "balance sheet, row 'Net worth'" in [s.check.label for s in statuses if s.status == "stock identity"]
    r = default_run
    assert relative((r.Bbs - r.Bbd) / r.Ms, 0.0) < 1e-13  # 2e-14 measured: rounding in a difference of stocks


# --- the experiments ---------------------------------------------------------------------------------------


def test_default_run_is_the_wage_push_of_figures_11_2a_b(model, default_run, balanced):
    assert [(s.variable, s.start, s.value) for s in model.spec.experiment.shocks] == [("omega0", 5, -0.15)]
    r, b = default_run, balanced.iloc[: len(default_run)]
    assert relative(r.iloc[:5], b.iloc[:5]) == 0.0  # identical to the last bit before the shock
    wage_inflation = r.W / r.W.shift(1) - 1
    assert wage_inflation[5] > r.PI[5] > 4 * b.PI[5]  # figure 11.2A: wages lead prices
    assert (r.Yk / b.Yk).iloc[-1] < 0.98 and (r.Ck / b.Ck).iloc[-1] < (r.Yk / b.Yk).iloc[-1]  # figure 11.2B


def test_the_compensating_bill_rate_restores_the_long_run_real_rate(model):
    real_bill_rate = lambda r: (1 + r.Rb.iloc[-1]) / (1 + r.PI.iloc[-1]) - 1  # noqa: E731
    base = model.run(periods=600, shocks=[], backend=LONG, check_accounting=False)
    scenario, _ = drypowder.read_scenario("growth_wage_push_rate")
    push = model.run(periods=600, shocks=scenario.shocks, backend=LONG, check_accounting=False)
    assert real_bill_rate(push) == pytest.approx(real_bill_rate(base), abs=1e-7)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_solves_and_balances(model, name):
    scenario, twin = drypowder.read_scenario(name, model.copy())  # shares the compiled model
    frames = drypowder.run_scenario(twin, scenario, backend="numpy")
    for frame in frames:
        assert frame.attrs["max_relative_imbalance"] < 1e-12
    assert relative(frames[1].iloc[:5], frames[0].iloc[:5]) == 0.0


# --- independent solvers and back ends -----------------------------------------------------------------------


def test_agrees_with_pysolve(model):
    # pysolve's Newton-Raphson cannot differentiate its if_true() switches (sympy has no derivative of
    # a comparison: AttributeError 'StrictGreaterThan' has no 'diff'), so pysolve runs Gauss-Seidel here.
    periods = 40
    reference = run_pysolve(model, periods, method="gauss-seidel", iterations=2000)
    ours = model.run(periods=periods, tolerance=1e-13, backend="numpy")
    assert list(reference.columns) == list(ours.columns)
    assert relative(ours, reference) < 1e-8


def test_numba_and_numpy_agree(model, default_run):
    pytest.importorskip("numba")
    compiled = model.run(backend="numba")
    assert relative(compiled, default_run) < 1e-10
