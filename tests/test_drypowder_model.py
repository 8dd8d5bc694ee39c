"""DRYPOWDER, the AI-capex liquidity model: the checks of MODEL.md 7 and 8 on the model's own runs.

Every test compares runs of the shipped model (equations/drypowder/) with each other or with the facts
of calibration/data/facts_used.csv; the numbers are printed (pytest -s) so that a reader sees the
magnitudes beside the anchors, not only that a sign is right.

Regimes: a scenario and the run it is compared with share every input but the one being studied.
"Ample" and "exhausted" dry powder are the baseline with the funds' minimum liquidity ratio phi_fl
lowered to 0 or raised by 1.5pp of tradable wealth from 2024Q1 (the parameters of the shipped
scenarios ai_capex_boom_ample and ai_capex_boom_exhausted); the shocks start in 2025Q1.
"""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pandas as pd
import pytest

import drypowder
from drypowder import RequirementError, Shock
from drypowder.residuals import equation_residuals
from drypowder.scenario import read_scenario, run_scenario
from drypowder.shipped import equations_folder
from drypowder.shocks import ParameterChange

FOLDER = equations_folder() / "drypowder"
SCENARIOS = sorted((FOLDER / "scenarios").glob("*.toml"))
THRESHOLD = 1.5  # the switch: the price impact of draining $100bn is 1.5 times its ample value
PRICES = {"crypto": "pcr", "growth": "peg", "broad": "peb", "near-cash": "pen"}


# --- helpers ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return drypowder.load("drypowder")


@pytest.fixture(scope="module")
def baseline(model):
    return dated(model, model.run())


def dated(model, results: pd.DataFrame) -> pd.DataFrame:
    results.index = model.spec.calendar.labels(len(results) - 1)
    return results


def period(model, date: str) -> int:
    return model.spec.calendar.period(date, "test")


def run(model, shocks=(), changes=()) -> pd.DataFrame:
    """The baseline's historical paths plus ``shocks``, with ``changes`` to parameters."""
    return dated(model, model.run(shocks=list(model.spec.experiment.shocks) + list(shocks), changes=list(changes)))


def scenario(model, name: str):
    return read_scenario(FOLDER / "scenarios" / f"{name}.toml", model)[0]


def regime(model, name: str) -> list[ParameterChange]:
    """The parameter changes that set a dry-powder regime (from the shipped scenario of that name)."""
    return scenario(model, f"ai_capex_boom_{name}").changes


def response(model, shocks, changes=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(run without the shocks, run with them), both with ``changes``."""
    return run(model, changes=changes), run(model, shocks, changes)


def percent(new: pd.DataFrame, old: pd.DataFrame, name: str) -> pd.Series:
    return 100 * (new[name] / old[name] - 1)


def basis_points(new: pd.DataFrame, old: pd.DataFrame, name: str) -> pd.Series:
    return 1e4 * (new[name] - old[name])


def switch_time(results: pd.DataFrame, threshold: float = THRESHOLD, after: str = "2021Q1") -> float:
    """The first period (fractional, by linear interpolation) after ``after`` where the regime indicator exceeds
    ``threshold``; inf if it never does. The search starts after the QE era (2020 was exhausted: the dash
    for cash)."""
    indicator = results["regime"].to_numpy()
    start = list(results.index).index(after)
    for t in range(start, len(indicator)):
        if indicator[t] > threshold:
            if t == start or indicator[t - 1] > threshold:
                return float(t)
            return t - 1 + (threshold - indicator[t - 1]) / (indicator[t] - indicator[t - 1])
    return np.inf


def label(model, time: float) -> str:
    return "none by 2026Q4" if np.isinf(time) else f"{model.spec.calendar.labels(31)[int(np.ceil(time))]} ({time:.2f})"


CAPEX = [Shock("Iguide", 24, add=50.0)]  # +$200bn a year of hyperscaler capex from 2025Q1 (period 24)


def test_the_calendar_puts_2025Q1_at_period_24(model):
    assert period(model, "2025Q1") == 24 and period(model, "2019Q2") == 1


# --- the parameters: Tobin adding-up and symmetry, checked from the names ------------------------------


def tobin(parameters: dict, holder: str) -> tuple[list[str], dict, dict]:
    coefficients = {}
    for name, value in parameters.items():
        match = re.fullmatch(rf"lam_{holder}_([a-z]+)_([a-z]+)", name)
        if match:
            coefficients[match.groups()] = value
    assets = sorted({i for i, _ in coefficients})
    shares = {i: parameters[("sf_" if holder == "f" else "sh_") + i] for i in assets}
    return assets, coefficients, shares


@pytest.mark.parametrize("holder", ["f", "h"])
def test_tobin_adding_up_and_symmetry_hold_in_the_parameters(model, holder):
    assets, lam, shares = tobin(model.parameters, holder)
    assert len(lam) == len(assets) ** 2, "every lam_<i>_<j> is declared"
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    for j in assets:
        assert sum(lam[i, j] for i in assets) == pytest.approx(0.0, abs=1e-12), f"column {j} adds up"
    for i in assets:
        assert lam[i, i] > 0
        for j in assets:
            assert lam[i, j] == lam[j, i], f"symmetry {i}, {j}"
            if i != j:
                assert lam[i, j] <= 0, "gross substitutes"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lam_f_l_bl": -2.5, "lam_f_bl_bl": 3.7705}, "Tobin symmetry: lam_f_l_j must equal lam_f_j_l"),  # adds up
        (
            {"lam_f_cr_cr": 0.2},
            "Tobin adding-up: the funds' coefficients on the return of 'cr' (lam_f_*_cr) must sum to 0",
        ),
        ({"sh_fs": 0.9}, "The households' benchmark shares (sh_*) must sum to 1"),
    ],
)
def test_broken_tobin_coefficients_are_refused_before_a_run(model, change, message):
    """The adding-up and symmetry conditions are [[requires]] of funds.toml and households.toml, checked on the
    inputs of every run (a --set, a scenario's [parameters] or model.set), before anything is solved."""
    broken = model.copy().set(**change)
    with pytest.raises(RequirementError, match=re.escape(message)):
        broken.run(periods=2)


def test_the_portfolio_shares_add_up_to_one_in_every_period(baseline):
    shares = baseline[["s_l", "s_bl", "s_cb", "s_eb", "s_eg", "s_en", "s_cr"]].sum(axis=1)
    assert np.max(np.abs(shares - 1)) < 1e-9
    # liquid assets are the buffer: their implied share equals their demand (the hidden Tobin equation)
    assert np.max(np.abs(baseline["s_l"] - baseline["L"] / baseline["WT"])) < 1e-9


# --- the baseline: consistent, and fitted to the facts ------------------------------------------------


def test_the_baseline_holds_every_equation_and_identity(model, baseline):
    assert baseline.attrs["max_relative_imbalance"] < 1e-9
    report = model.check_accounting(baseline)
    assert not report.failures and report.max_relative_imbalance < 1e-9
    residuals = equation_residuals(model, baseline.reset_index(drop=True))
    assert float(residuals.abs().max().max()) < 1e-9
    # the hidden equation: reserves held by banks = reserves issued by the Fed
    assert np.max(np.abs(baseline["Rb"] - baseline["R"]) / baseline["R"]) < 1e-9


FACTS = {  # (series in the model, quarter): (fact, source row in facts_used.csv, relative tolerance)
    ("R", "2019Q4"): (1651.9, "fed_reserve_balances@2019-12-25", 0.15),
    ("R", "2020Q4"): (3122.2, "fed_reserve_balances@2020-12-30", 0.15),
    ("R", "2021Q4"): (4116.2, "fed_reserve_balances@2021-12-29", 0.25),
    ("R", "2022Q4"): (3017.9, "fed_reserve_balances@2022-12-28", 0.25),
    ("R", "2023Q4"): (3446.5, "fed_reserve_balances@2023-12-27", 0.15),
    ("R", "2024Q4"): (3247.4, "fed_reserve_balances@2024-12-25", 0.15),
    ("R", "2025Q4"): (2957.4, "fed_reserve_balances@2025-12-31", 0.15),
    ("R", "2026Q3"): (2935.3, "fed_reserve_balances@2026-08-19", 0.15),
    ("FEDA", "2019Q4"): (4165.6, "fed_total_assets@2019-12-25", 0.05),
    ("FEDA", "2021Q4"): (8757.5, "fed_total_assets@2021-12-29", 0.05),
    ("FEDA", "2022Q4"): (8551.2, "fed_total_assets@2022-12-28", 0.05),
    ("FEDA", "2024Q4"): (6886.0, "fed_total_assets@2024-12-25", 0.05),
    ("FEDA", "2025Q4"): (6640.6, "fed_total_assets@2025-12-31", 0.05),
    ("TGA", "2020Q4"): (1591.1, "treasury_general_account@2020-12-30", 1e-9),
    ("TGA", "2025Q4"): (872.9, "treasury_general_account@2025-12-31", 1e-9),
    ("DEBT", "2024Q4"): (28830.0, "federal_debt_held_by_public@2024Q4", 0.05),
    ("DEBT", "2026Q1"): (31100.0, "federal_debt_held_by_public@2026-02-01", 0.05),
    ("Bs", "2025Q1"): (6400.0, "treasury_bills_outstanding_public@2025-02-01", 0.15),
    ("L", "2022Q4"): (4741.0, "mmf_total_assets_ici@2022-12-31", 0.15),
    ("L", "2024Q4"): (6850.0, "mmf_total_assets_ici@2024-12-31", 0.25),
    ("L", "2025Q4"): (7734.0, "mmf_total_assets_ici@2026-01-28 (end-2025 implied)", 0.25),
}


def test_the_baseline_fits_the_stocks_of_the_facts(baseline):
    rows = []
    for (name, quarter), (fact, source, tolerance) in FACTS.items():
        value = float(baseline.loc[quarter, name])
        rows.append((name, quarter, fact, round(value, 1), f"{100 * (value / fact - 1):+.1f}%", source))
        assert abs(value / fact - 1) <= tolerance, (name, quarter, value, fact)
    print("\n" + pd.DataFrame(rows, columns=["model", "quarter", "fact", "value", "gap", "source"]).to_string())


def test_the_baseline_rrp_rises_to_a_2022_peak_and_drains_by_late_2025(baseline):
    rrp = baseline["RRP"]
    data = {"2019Q4": 64, "2021Q4": 1905, "2022Q4": 2554, "2023Q4": 1019, "2024Q4": 474, "2025Q3": 49, "2026Q2": 27}
    print(
        "\nRRP (USD bn), model vs fed_on_rrp_usage: " + ", ".join(f"{q} {rrp[q]:.0f} vs {v}" for q, v in data.items())
    )
    assert rrp["2019Q1":"2020Q1"].max() < 150  # no idle cash at the RRP before QE
    peak = rrp.idxmax()
    assert "2021Q3" <= peak <= "2022Q4" and rrp.max() > 2000  # fed_on_rrp_usage_peak: 2554 at end-2022
    assert rrp["2023Q4"] == pytest.approx(1018.5, rel=0.35)
    assert rrp["2025Q3":"2026Q3"].max() < 150  # near zero late 2025 (fed_on_rrp_usage_low)
    assert rrp["2021Q4"] > 10 * rrp["2019Q4"] and rrp["2022Q4"] > 3 * rrp["2024Q4"]


def test_the_baseline_flows_follow_the_facts(baseline):
    year = baseline.groupby(baseline.index.str[:4])
    capex = year["Ihs"].sum()
    for y, fact in (("2023", 151.0), ("2024", 246.0), ("2025", 410.0)):  # capex_big4_total
        assert capex[y] == pytest.approx(fact, rel=0.12)
    issuance = year["CBiss"].sum()  # bond_issuance_hyperscalers: 121bn in 2025 vs ~28 a year 2020-2024
    assert issuance["2020":"2024"].mean() < 40 and 60 < issuance["2025"] < 250
    gdp = year["Y"].sum()
    for y, fact in (("2021", 23725.6), ("2023", 27811.5), ("2024", 29298.0)):  # gdp_nominal
        assert gdp[y] == pytest.approx(fact, rel=0.005)
    bills = baseline["billsh"]
    assert 0.10 < bills["2019Q4"] < 0.16 and 0.18 < bills["2025Q4"] < 0.26  # treasury_bills_share, bills 2025
    # household financial net worth: Z.1 net worth less non-financial assets (household_financial_assets@2024Q3)
    worth = baseline.loc["2024Q3", "Vh"]
    print(f"\nhouseholds' financial net worth 2024Q3: model {worth:.0f}bn vs 107500 (168.8 - 61.3tn)")
    assert baseline.loc["2024Q3", "Vh"] == pytest.approx(107500.0, rel=0.25)
    print(
        f"hyperscaler bond issuance 2025: model {issuance['2025']:.0f}bn vs 121; 2026: {issuance['2026']:.0f} "
        "(forecasts 100-400)"
    )


# --- MODEL.md 7: the six checks ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def capex_in_regimes(model):
    """The bond-financed capex boom in each regime: {regime: (without, with)}."""
    return {name: response(model, CAPEX, regime(model, name)) for name in ("ample", "exhausted")}


def test_1_with_ample_dry_powder_bond_financed_capex_lifts_output_and_no_price_falls(model, capex_in_regimes):
    before, after = capex_in_regimes["ample"]
    window = slice("2025Q1", "2025Q4")  # the first year: "a multiplier -- at first" (MODEL.md 1.2)
    assert before.loc["2025Q1", "regime"] < 1.2  # ample: the price impact of a drain is near its ample value
    assert (after["Y"] - before["Y"])[window].min() > 0
    moves = {asset: percent(after, before, name)[window] for asset, name in PRICES.items()}
    later = {asset: percent(after, before, name)["2026Q4"] for asset, name in PRICES.items()}
    print(
        "\nample regime, +$200bn a year of bond-financed capex, % after 4 quarters: "
        + ", ".join(f"{asset} {move.iloc[-1]:+.2f}" for asset, move in moves.items())
        + "; after 8 quarters (AI revenue now displaces other firms' profits): "
        + ", ".join(f"{asset} {move:+.2f}" for asset, move in later.items())
    )
    for asset, move in moves.items():
        assert move.min() >= -1e-6, f"{asset} falls with ample dry powder"
    # the issuer's own bonds cheapen (more supply), but less than when dry powder is exhausted
    spread = {name: basis_points(*reversed(pair), "spcb")["2026Q4"] for name, pair in capex_in_regimes.items()}
    assert 0 < spread["ample"] < spread["exhausted"]


def test_2_with_dry_powder_exhausted_the_same_capex_reprices_by_duration(model, capex_in_regimes):
    (a0, a1), (e0, e1) = capex_in_regimes["ample"], capex_in_regimes["exhausted"]
    assert e0.loc["2025Q1", "regime"] > 5  # exhausted: draining liquidity costs many times its ample impact
    for name in ("y10", "spcb"):
        ample, exhausted = basis_points(a1, a0, name)["2026Q4"], basis_points(e1, e0, name)["2026Q4"]
        print(f"\n{name}: +{ample:.1f}bp ample, +{exhausted:.1f}bp exhausted")
        assert exhausted > 0 and exhausted > ample
    moves = {asset: percent(e1, e0, name)["2026Q4"] for asset, name in PRICES.items()}
    print("exhausted regime, % at 2026Q4: " + ", ".join(f"{asset} {move:+.2f}" for asset, move in moves.items()))
    assert moves["crypto"] < moves["growth"] < moves["broad"] < moves["near-cash"]
    assert moves["crypto"] < 0


def test_3_the_fiscal_multiplier_is_positive_in_both_regimes_and_qe_helps_risky_prices(model):
    stimulus = scenario(model, "fiscal_stimulus").shocks
    with_qe = scenario(model, "fiscal_stimulus_qe").shocks
    for name in ("ample", "exhausted"):
        before, plain = response(model, stimulus, regime(model, name))
        qe = run(model, with_qe, regime(model, name))
        gap = (plain["Y"] - before["Y"])["2025Q1":]
        impact, cumulative = gap.iloc[0] / 50.0, gap.mean() / 50.0
        print(f"\n{name}: fiscal multiplier impact {impact:.2f}, cumulative (8 quarters) {cumulative:.2f}")
        assert impact > 0 and cumulative > 0
        for asset, price in PRICES.items():
            assert qe.loc["2026Q4", price] > plain.loc["2026Q4", price], f"{asset} with QE, {name}"
        assert qe.loc["2026Q4", "y10"] < plain.loc["2026Q4", "y10"]


@pytest.fixture(scope="module")
def switches(model, baseline):
    times = {"baseline": switch_time(baseline)}
    for name in ("hawkish", "plumbing_bills", "plumbing_tga", "plumbing_rmp", "plumbing_all"):
        s = scenario(model, name)
        times[name] = switch_time(run(model, s.shocks, s.changes))
    return times


def test_4_hawkish_brings_the_switch_forward_and_each_plumbing_lever_pushes_it_back(model, switches):
    print(
        f"\nthe switch (regime indicator > {THRESHOLD:.2f} after 2021Q1): "
        + "; ".join(f"{name} {label(model, time)}" for name, time in switches.items())
    )
    base = switches["baseline"]
    assert np.isfinite(base)
    assert switches["hawkish"] < base
    for lever in ("plumbing_bills", "plumbing_tga", "plumbing_rmp"):
        assert switches[lever] > base, lever
    assert switches["plumbing_all"] >= max(
        switches[lever] for lever in ("plumbing_bills", "plumbing_tga", "plumbing_rmp")
    )


def test_4_the_switch_date_moves_with_the_threshold(model, baseline):
    times = {threshold: switch_time(baseline, threshold) for threshold in (1.25, 1.5, 2.0, 3.0)}
    print("\nbaseline switch by threshold: " + "; ".join(f"{k}: {label(model, v)}" for k, v in times.items()))
    values = list(times.values())
    assert values == sorted(values)  # a higher threshold never brings the switch forward


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_5_every_scenario_balances_every_period(model, path):
    spec, scenario_model = read_scenario(path, model)
    base, changed = run_scenario(scenario_model, spec)  # each run raises AccountingError above 1e-9
    assert base.attrs["max_relative_imbalance"] < 1e-9 and changed.attrs["max_relative_imbalance"] < 1e-9
    assert np.all(np.isfinite(changed.to_numpy()))


def test_6_the_10y_response_to_100bn_of_qe_per_regime_beside_the_event_studies(model):
    qe = [Shock("BLcb", period(model, "2025Q1"), add=100.0)]
    moves = {}
    for name in ("ample", "exhausted"):
        before, after = response(model, qe, regime(model, name))
        moves[name] = basis_points(after, before, "y10")["2025Q1"]
    print(
        f"\n10y yield, $100bn of QE in 2025Q1: {moves['ample']:.1f}bp ample, {moves['exhausted']:.1f}bp exhausted "
        "(Gagnon et al. 2011: 2-6bp per $100bn)"
    )
    assert -6.0 <= moves["ample"] <= -1.0
    assert moves["exhausted"] < moves["ample"]


def test_6_the_regime_indicator_is_the_price_impact_of_a_100bn_drain(model):
    """The regime indicator comes from the liquidity-demand curve at the current state. A drain of $100bn
    from the funds in one quarter (a capital call) raises the average required return on risky assets by
    about dER100 when dry powder is ample, and by several times more when it is exhausted; the indicator
    overstates the exhausted impact because it leaves out that falling prices lower the floor too."""
    drain = [Shock("Ilab", period(model, "2025Q1"), end=period(model, "2025Q1"), kind="pulse", add=100.0)]
    risky = ["ERb", "ERg", "ERcb", "ERbl"]
    realised, indicator = {}, {}
    for name in ("ample", "exhausted"):
        before, after = response(model, drain, regime(model, name))
        realised[name] = float(np.mean([basis_points(after, before, r)["2025Q1"] for r in risky]))
        indicator[name] = 1e4 * before.loc["2025Q1", "dER100"]
    print(
        "\naverage risky required return after a $100bn capital call (bp), realised vs dER100: "
        + ", ".join(f"{k} {realised[k]:.2f} vs {indicator[k]:.2f}" for k in realised)
    )
    assert realised["ample"] == pytest.approx(indicator["ample"], rel=0.5)
    assert realised["exhausted"] > 4 * realised["ample"] > 0
    ratio_realised = realised["exhausted"] / realised["ample"]
    ratio_indicator = indicator["exhausted"] / indicator["ample"]
    assert ratio_realised < ratio_indicator < 4 * ratio_realised


# --- MODEL.md 8: causes move outcomes the way the story says (comparative statics) -----------------------


def with_more_rrp(model, extra: float):
    """A copy of the model whose households hold, and want to hold, ``extra`` more in money funds parked at
    the RRP (and that much less in deposits) in 2019Q1: the balance sheets stay consistent, and the
    households' benchmark shares (sh_fs, sh_m; hmm_sh) move with the holdings, keeping adding-up."""
    twin = model.copy()
    start = twin.initial
    gross = start["Mh"] + start["NF"]  # gross financial assets in the households' Tobin choice (pnav = 1)
    twin.parameters["sh_fs"] += extra / gross
    twin.parameters["sh_m"] -= extra / gross
    twin.parameters["hmm_sh"] = (start["HMM"] + extra) / (start["Mh"] + start["HMM"])
    for name in ("NF", "RRP", "L", "W", "WT", "NBf", "HMM"):
        start[name] += extra
    for name in ("Mh", "Ms", "R", "Rb", "TAb"):
        start[name] -= extra
    start["floor"] += twin.parameters["phi_fl"] * extra
    start["DP"] = start["L"] - start["floor"]
    start["rr"] = start["R"] / start["TAb"]
    return twin


def test_the_liquidity_demand_is_smooth_and_convex_near_the_floor_and_newton_goes_through_it(model):
    """Capital calls of 0 to 800bn in the switch quarter (2025Q3), each solved by the default damped Newton
    with no special casing: every $100bn more costs more than the one before, in the average required
    return on risky assets and in the crypto price (the "convex scramble for capital", MODEL.md 4)."""
    quarter = period(model, "2025Q3")
    rows = []
    for size in range(0, 801, 100):
        drain = Shock("Ilab", quarter, end=quarter, kind="pulse", add=float(size))
        results = model.run(periods=quarter, shocks=list(model.spec.experiment.shocks) + [drain])
        at = results.iloc[quarter]
        assert at["zeta"] == pytest.approx(model.parameters["kappa"] / at["DP"], rel=1e-12)  # smooth: kappa/DP
        rows.append((at["DP"], np.mean([at[r] for r in ("ERb", "ERg", "ERcb", "ERbl")]), at["pcr"]))
    dry, required, crypto = (np.array(column) for column in zip(*rows))
    print(f"\nper 100bn drained: required return +{np.round(1e4 * np.diff(required), 3)} bp; DP {np.round(dry)}")
    assert np.all(np.diff(dry) < 0) and dry[-1] > 0
    assert np.all(np.diff(required) > 0) and np.all(np.diff(required, 2) > 0)  # rising, and ever faster
    assert np.all(np.diff(crypto) < 0) and np.all(np.diff(crypto, 2) < 0)


def test_8_more_dry_powder_at_the_rrp_at_the_start_moves_the_switch_later(model, baseline):
    richer = with_more_rrp(model, 400.0)
    results = dated(richer, richer.run())
    assert results.attrs["max_relative_imbalance"] < 1e-9
    print(
        f"\nswitch: baseline {label(model, switch_time(baseline))}, 400bn more at the RRP in 2019Q1 "
        f"{label(model, switch_time(results))}"
    )
    assert switch_time(results) > switch_time(baseline)


def test_8_a_higher_liquidity_floor_moves_the_switch_earlier(model, baseline):
    higher = run(model, changes=[ParameterChange("phi_fl", model.parameters["phi_fl"] + 0.003)])
    assert switch_time(higher) < switch_time(baseline)


def test_8_bond_financed_capex_crowds_out_and_cash_flow_financed_does_not(model, baseline):
    outcomes = {}
    for name in ("ai_capex_boom_bonds", "ai_capex_boom_cash_flow"):
        after = run(model, scenario(model, name).shocks)
        outcomes[name] = {
            "hyperscaler spread (bp)": basis_points(after, baseline, "spcb")["2026Q4"],
            "dry powder (bn)": (after["DP"] - baseline["DP"])["2026Q4"],
            "bonds outstanding (bn)": (after["CBs"] - baseline["CBs"])["2026Q4"],
            "regime indicator": (after["regime"] - baseline["regime"])["2026Q4"],
        }
    print("\n" + pd.DataFrame(outcomes).to_string())
    bonds, cash = outcomes["ai_capex_boom_bonds"], outcomes["ai_capex_boom_cash_flow"]
    assert bonds["bonds outstanding (bn)"] > 300 and abs(cash["bonds outstanding (bn)"]) < 50
    assert bonds["hyperscaler spread (bp)"] > 20 and cash["hyperscaler spread (bp)"] < 0
    assert bonds["dry powder (bn)"] < -50 and abs(cash["dry powder (bn)"]) < 0.25 * abs(bonds["dry powder (bn)"])
    assert bonds["regime indicator"] > 0 and abs(cash["regime indicator"]) < 0.25 * bonds["regime indicator"]


def test_8_fiscal_stimulus_with_the_fed_absorbing_the_duration_keeps_yields_lower(model, baseline):
    plain = run(model, scenario(model, "fiscal_stimulus").shocks)
    qe = run(model, scenario(model, "fiscal_stimulus_qe").shocks)
    assert qe.loc["2026Q4", "TP"] < baseline.loc["2026Q4", "TP"] < plain.loc["2026Q4", "TP"]
    assert qe.loc["2026Q4", "DP"] > plain.loc["2026Q4", "DP"]


def test_8_capital_calls_drain_dry_powder_without_a_market_price(model, baseline):
    after = run(model, scenario(model, "capital_calls").shocks)
    assert (after["Y"] - baseline["Y"])["2025Q1":].min() > 0  # the labs' capex is spending too
    assert (after["DP"] - baseline["DP"])["2026Q4"] < -50
    assert after.loc["2026Q4", "PAI"] - baseline.loc["2026Q4", "PAI"] == pytest.approx(400.0, rel=1e-3)
    assert abs(basis_points(after, baseline, "spcb")["2026Q4"]) < 10  # no new hyperscaler bonds to reprice


def test_8_a_discount_rate_rise_ranks_losses_by_duration(model, baseline):
    """Valuation and duration from cash-flow profiles: the hawkish Fed raises every discount rate; growth
    equity (cash flows far ahead) loses most, near-cash-flow equity (cash flows now) least."""
    hawkish = run(model, scenario(model, "hawkish").shocks)
    losses = {asset: percent(hawkish, baseline, name)["2026Q4"] for asset, name in PRICES.items() if asset != "crypto"}
    print("\nhawkish Fed, % at 2026Q4: " + ", ".join(f"{k} {v:+.2f}" for k, v in losses.items()))
    assert losses["growth"] < losses["broad"] < losses["near-cash"] < 0
    durations = {
        k: 1 / (baseline.loc["2024Q4", er] - baseline.loc["2024Q4", g])
        for k, er, g in (("growth", "ERg", "gg"), ("broad", "ERb", "gb"), ("near-cash", "ERn", "gn"))
    }
    assert durations["growth"] > durations["broad"] > durations["near-cash"]


def test_8_tighter_margins_deepen_a_liquidity_squeeze(model):
    """Cascades: haircuts that rise more with losses (hc1) force more repo to be repaid from dry powder in the
    same quarter; the hawkish squeeze then costs crypto and growth more."""
    hawkish = scenario(model, "hawkish").shocks
    exhausted = regime(model, "exhausted")
    moves = {}
    for hc1 in (0.0, 8.0):
        before, after = response(model, hawkish, exhausted + [ParameterChange("hc1", hc1)])
        moves[hc1] = {k: percent(after, before, PRICES[k])["2026Q4"] for k in ("crypto", "growth")}
        moves[hc1]["repo"] = (after["REPO"] - before["REPO"])["2026Q4"]
    print(f"\nhawkish with dry powder exhausted, margins fixed vs sensitive: {moves}")
    assert moves[8.0]["crypto"] < moves[0.0]["crypto"] < 0
    assert moves[8.0]["growth"] < moves[0.0]["growth"]
    assert moves[8.0]["repo"] < moves[0.0]["repo"]


def test_8_redemptions_follow_bad_returns(model):
    """Cascades: households that chase fund returns harder (a larger Tobin coefficient, adding-up and
    symmetry kept) redeem more after the hawkish squeeze's losses."""
    hawkish = scenario(model, "hawkish").shocks
    flows = {}
    for strength in (0.5, 2.0):
        changes = [
            ParameterChange(name, sign * strength)
            for name, sign in (("lam_h_fs_fs", 1), ("lam_h_m_m", 1), ("lam_h_fs_m", -1), ("lam_h_m_fs", -1))
        ]
        before, after = response(model, hawkish, changes)
        flows[strength] = (after["NS"] - before["NS"])["2024Q2":"2026Q4"].sum()
    print(
        f"\nhawkish Fed: net subscriptions 2024Q2-2026Q4 change by {flows[0.5]:.0f}bn (lam_h 0.5) and "
        f"{flows[2.0]:.0f}bn (lam_h 2.0)"
    )
    assert flows[2.0] < flows[0.5] - 50


def test_8_policy_adds_or_drains_the_water(model, baseline):
    """The bathtub: a hawkish Fed lowers risky prices; plumbing raises them and lowers the 10y yield."""
    hawkish = run(model, scenario(model, "hawkish").shocks)
    plumbing = run(model, scenario(model, "plumbing_all").shocks)
    for price in PRICES.values():
        assert hawkish.loc["2026Q4", price] < baseline.loc["2026Q4", price] < plumbing.loc["2026Q4", price]
    assert plumbing.loc["2026Q4", "y10"] < baseline.loc["2026Q4", "y10"] < hawkish.loc["2026Q4", "y10"]


# --- bad inputs are caught before the solver, naming the value and the file ------------------------------


def bad_scenario(tmp_path, body: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(f'[scenario]\nmodel = "{(FOLDER / "drypowder.toml").as_posix()}"\n{body}')
    return str(path)


@pytest.mark.parametrize(
    "body, names",
    [
        ('[[shocks]]\nvariable = "Iguide"\nstart = "2025Q1"\nvalue = -10.0\n', ["Iguide = -10", "Iguide >= 0"]),
        ("[parameters]\nphi_fl = 0.06\n", ["phi_fl = 0.06", "phi_fl*WT + beta_b*Bf < L"]),
    ],
    ids=["negative capex", "floor above liquidity"],
)
def test_bad_scenario_values_name_the_value_and_the_file(model, tmp_path, body, names):
    path = bad_scenario(tmp_path, body)
    spec, scenario_model = read_scenario(path, model)
    with pytest.raises(RequirementError) as error:
        run_scenario(scenario_model, spec)
    message = str(error.value)
    assert path in message and ("funds.toml" in message or "hyperscalers.toml" in message)
    for name in names:
        assert name in message


def test_starting_liquidity_at_or_below_the_floor_is_refused(model):
    twin = model.copy()
    twin.initial["L"] = twin.initial["floor"]
    with pytest.raises(RequirementError) as error:
        twin.run(periods=2)
    assert "DP > 0 and L > floor" in str(error.value) and "funds.toml" in str(error.value)
    assert f"L = {twin.initial['floor']:.10g}" in str(error.value)


def test_the_parameter_file_says_where_each_value_comes_from():
    """Every value line of parameters.toml carries its source note: fact, derived or assumption (or says
    what it is), so that a formal fit can rewrite the values in place."""
    text = (FOLDER / "parameters.toml").read_text()
    section = None
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section in ("parameters", "exogenous") and re.match(r"[A-Za-z_0-9]+ = ", line):
            assert "#" in line and line.split("#", 1)[1].strip(), line
    values = tomllib.loads(text)
    assert set(values) == {"parameters", "exogenous", "initial"}
