"""The DRYPOWDER report (``drypowder report drypowder``): its figures recomputed from direct runs of the model.

The report is built once for the module. Each test checks one of its numbers against runs made here,
outside the report code, or against an identity that must hold: the buyers of new bonds add up to the
issuance, and sector net lending sums to zero.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import drypowder
from drypowder import ModelError, Shock
from drypowder.cli import main
from drypowder.report import END, REGIMES, THRESHOLD, build_report

KEYS = {
    "switch_period",
    "switch_periods",
    "multipliers",
    "repricing",
    "fiscal_repricing",
    "qe_10y_bp_per_100bn",
    "max_relative_imbalance",
}
PRICE_KEYS = {"crypto", "growth_equity", "broad_equity", "near_cash_flow_equity"}
RATE_KEYS = {"treasury_10y_yield_bp", "term_premium_bp", "credit_spread_bp"}


@pytest.fixture(scope="module")
def model():
    return drypowder.load("drypowder")


@pytest.fixture(scope="module")
def report(model):
    return build_report(model)


def direct_run(model, extra=()):
    """The historical baseline to the report's horizon, plus ``extra`` shocks, made without the report code."""
    end = model.spec.calendar.period(END, "test")
    results = model.run(periods=end, shocks=list(model.spec.experiment.shocks) + list(extra))
    results.index = model.spec.calendar.labels(end)
    return results


def test_the_json_has_every_key_the_issue_names(report, tmp_path):
    written = report.write_json(tmp_path / "new folder" / "report.json")  # its folder is made, as --plots does
    summary = json.loads(written.read_text())
    assert summary == json.loads(json.dumps(report.summary()))
    assert KEYS <= set(summary)
    assert {"baseline", "hawkish", "plumbing"} <= set(summary["switch_periods"])  # plumbing: all three levers
    assert {"plumbing_bills", "plumbing_tga", "plumbing_rmp"} <= set(summary["switch_periods"])  # each alone
    for lever in ("fiscal", "fiscal_with_qe", "ai_capex"):
        for regime in REGIMES:
            assert set(summary["multipliers"][lever][regime]) == {"impact", "cumulative_8q", "long_run"}
    for regime in REGIMES:
        assert set(summary["repricing"][regime]) == PRICE_KEYS | RATE_KEYS
    assert set(summary["fiscal_repricing"]) == {"with_qe", "without_qe"}
    assert set(summary["qe_10y_bp_per_100bn"]) == set(REGIMES)
    assert summary["max_relative_imbalance"] < 1e-9


def test_the_switch_is_the_first_quarter_the_regime_indicator_crosses_the_threshold(model, report):
    base = direct_run(model)
    quarter = report.switch_period
    assert quarter is not None and quarter >= "2021Q1"
    assert base.loc[quarter, "regime"] > THRESHOLD
    assert (base.loc["2021Q1":quarter, "regime"].iloc[:-1] <= THRESHOLD).all()
    assert report.switches["baseline"] == quarter
    assert report.switches["hawkish"] < quarter  # MODEL.md 7.4, as the report shows it
    assert report.switches["plumbing"] is None or report.switches["plumbing"] > quarter
    for lever in ("plumbing_bills", "plumbing_tga", "plumbing_rmp"):  # MODEL.md 7.4, each lever alone
        assert report.crossings[lever] is None or report.crossings[lever] > report.crossings["baseline"], lever
    assert report.crossings["hawkish"] < report.crossings["baseline"]
    assert report.crossings["baseline"] == pytest.approx(
        ((base["regime"] > THRESHOLD) & (base.index >= "2021Q1")).to_numpy().argmax() - 1 + 0.0, abs=1.0
    )
    by_threshold = [q or "never" for q in report.switch_by_threshold.values()]  # "never" sorts after "2..."
    assert by_threshold == sorted(by_threshold)  # a higher threshold never brings the switch forward


def test_the_ai_capex_multiplier_and_repricing_match_direct_runs(model, report):
    start = model.spec.calendar.period(REGIMES["exhausted"], "test")
    base = direct_run(model)
    capex = direct_run(model, [Shock("Iguide", start, add=50.0)])
    gap = (capex - base).iloc[start : start + 8]
    expected = gap["Y"].sum() / gap["Idc"].sum()
    assert report.summary()["multipliers"]["ai_capex"]["exhausted"]["cumulative_8q"] == pytest.approx(
        expected, rel=1e-12
    )
    later = start + 8
    row = report.summary()["repricing"]["exhausted"]
    assert row["crypto"] == pytest.approx(100 * (capex["pcr"].iloc[later] / base["pcr"].iloc[later] - 1), rel=1e-9)
    assert row["credit_spread_bp"] == pytest.approx(1e4 * (capex["spcb"] - base["spcb"]).iloc[later], rel=1e-9)


def test_the_report_figures_tell_the_story_of_model_md(report):
    summary = report.summary()
    for lever in ("fiscal", "fiscal_with_qe"):
        for regime in REGIMES:
            assert summary["multipliers"][lever][regime]["cumulative_8q"] > 1  # fiscal spending is a multiplier
    exhausted, ample = summary["repricing"]["exhausted"], summary["repricing"]["ample"]
    # MODEL.md 7.1-7.2 in the report's own regimes: with ample dry powder no asset price falls (Treasuries
    # may rally); exhausted, the 10y yield and the spread rise, by more than when ample, and losses are
    # ranked by duration: crypto < growth < broad < near-cash-flow equity
    assert exhausted["treasury_10y_yield_bp"] > max(ample["treasury_10y_yield_bp"], 0)
    assert exhausted["credit_spread_bp"] > ample["credit_spread_bp"] > 0
    assert min(ample[price] for price in PRICE_KEYS) > 0
    assert exhausted["crypto"] < 0
    order = ["crypto", "growth_equity", "broad_equity", "near_cash_flow_equity"]
    assert [exhausted[k] for k in order] == sorted(exhausted[k] for k in order)
    with_qe, without = summary["fiscal_repricing"]["with_qe"], summary["fiscal_repricing"]["without_qe"]
    assert with_qe["treasury_10y_yield_bp"] < without["treasury_10y_yield_bp"]
    for price in PRICE_KEYS:
        assert with_qe[price] > without[price]
    for regime in REGIMES:
        assert -10 < summary["qe_10y_bp_per_100bn"][regime] < 0


def test_the_qe_response_matches_a_direct_run_of_100bn_at_market_prices(model, report):
    start = model.spec.calendar.period(REGIMES["ample"], "test")
    base = direct_run(model)
    after = direct_run(model, [Shock("BLcb", start, add=100.0 / base["pbl"].iloc[start])])
    assert report.qe_bp["ample"] == pytest.approx(1e4 * (after["y10"] - base["y10"]).iloc[start], rel=1e-9)


def test_the_buyers_of_new_bonds_add_up_to_the_issuance_and_net_lending_to_zero(report):
    absorbed = report.tables["absorption"]
    issuance = absorbed["Treasury issuance"] + absorbed["hyperscaler issuance"]
    buyers = absorbed[["Funds", "Banks", "Fed"]].sum(axis=1)
    assert np.max(np.abs(buyers - issuance)) < 1e-9 * np.max(np.abs(issuance))
    lending = report.tables["net_lending"]
    assert np.max(np.abs(lending.sum(axis=1))) < 1e-9 * np.max(np.abs(lending.to_numpy()))


def test_the_report_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["report", "drypowder", "--scenario", "hawkish", "--json", str(out), "--plots", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "The switch to reverse QE" in printed and "Repricing 8 quarters after" in printed
    summary = json.loads(out.read_text())
    assert summary["scenario"] == "Hawkish Fed"
    assert summary["switch_period"] == summary["switch_periods"]["hawkish"]
    assert summary["switch_periods"]["baseline"] != summary["switch_period"]
    plots = sorted(path.name for path in tmp_path.glob("*.png"))
    assert plots == ["dry_powder.png", "duration.png", "multipliers.png", "net_lending.png", "repricing.png"]
    assert all((tmp_path / name).stat().st_size > 20_000 for name in plots)


def test_the_report_refuses_other_models_with_a_clear_message(capsys):
    assert main(["report", "sim"]) == 2
    error = capsys.readouterr().err
    assert "the report is written for the DRYPOWDER model (drypowder report drypowder)" in error
    with pytest.raises(ModelError, match="has no"):
        build_report(drypowder.load("pc"))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_the_hawkish_report_runs_converge_on_both_back_ends(model, backend):
    """After 2027, with the inputs held flat, bills crowd out the money funds' other liquidity NBf (a small
    difference of stocks of trillions). The model's absolute tolerance ($1) lets Newton finish there on
    either back end; with a relative test alone the numpy path failed in 2030 while numba passed."""
    from drypowder.report import LEVERS
    from drypowder.scenario import read_scenario

    assert model.spec.absolute_tolerance == 1e-9
    end = model.spec.calendar.period(END, "test")
    hawkish = read_scenario("hawkish", model)[0]
    start = model.spec.calendar.period(REGIMES["exhausted"], "test")
    shocks = list(model.spec.experiment.shocks) + hawkish.shocks + LEVERS[1].shocks(start, end)
    results = model.run(periods=end, shocks=shocks, backend=backend)
    assert results["NBf"].iloc[-1] < 1.0  # the corner the test is about
    assert results.attrs["max_relative_imbalance"] < 1e-9
