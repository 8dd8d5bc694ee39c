"""Scenario files and multipliers: shared history, shock shapes, closed forms, clear errors."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

import drypowder
from drypowder import ModelFileError, UnknownNameError
from drypowder.multipliers import multipliers
from drypowder.scenario import read_scenario, run_scenario


def scenario_file(tmp_path, text: str, name: str = "scenario.toml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_scenario_shares_the_baseline_history_up_to_its_first_change(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        [scenario]
        name = "fiscal"
        model = "pc"
        [[shocks]]
        variable = "G"
        start = 12
        add = 2
        """,
    )
    scenario, model = read_scenario(path)
    baseline, changed = run_scenario(model, scenario)
    assert scenario.first_period == 12
    pd.testing.assert_frame_equal(baseline.loc[:11], changed.loc[:11])  # identical to the last bit
    assert changed["G"][12] == baseline["G"][12] + 2
    # on impact only output and income move: Y rises by 2 / (1 - alpha1*(1 - theta))
    p = model.parameters
    assert changed["Y"][12] - baseline["Y"][12] == pytest.approx(2 / (1 - p["alpha1"] * (1 - p["theta"])), rel=1e-9)


def test_shock_shapes_step_pulse_ramp_path(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        [scenario]
        model = "sim"
        periods = 12
        [[shocks]]
        variable = "W"
        start = 2
        end = 3
        kind = "pulse"
        value = 2
        [[shocks]]
        variable = "W"
        start = 5
        end = 8
        kind = "ramp"
        add = 1
        [[shocks]]
        variable = "Gd"
        start = 10
        path = [30, 31]
        """,
    )
    scenario, model = read_scenario(path)
    _, results = run_scenario(model, scenario)
    assert list(results["W"]) == [1, 1, 2, 2, 1, 1.25, 1.5, 1.75, 2, 2, 2, 2, 2]
    assert list(results["Gd"]) == [0] + [20] * 9 + [30, 31, 20]


def test_a_path_with_hold_keeps_its_last_value(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        [scenario]
        model = "sim"
        periods = 8
        [[shocks]]
        variable = "Gd"
        start = 3
        path = [30, 31]
        hold = true
        """,
    )
    scenario, model = read_scenario(path)
    _, results = run_scenario(model, scenario)
    assert list(results["Gd"]) == [0, 20, 20, 30, 31, 31, 31, 31, 31]


def test_a_parameter_can_change_from_a_later_period(tmp_path):
    path = scenario_file(
        tmp_path,
        """
        [scenario]
        model = "sim"
        [parameters]
        theta = { value = 0.25, start = 30 }
        """,
    )
    scenario, model = read_scenario(path)
    baseline, changed = run_scenario(model, scenario)
    pd.testing.assert_frame_equal(baseline.loc[:29], changed.loc[:29])
    assert changed["Td"][30] == pytest.approx(0.25 * changed["W"][30] * changed["Ns"][30], rel=1e-12)
    # the new steady state: Y* = G/theta
    long = model.run(periods=400, changes=scenario.changes)
    assert long["Y"].iloc[-1] == pytest.approx(20 / 0.25, rel=1e-9)


def test_a_parameter_changed_from_period_1_is_the_same_as_setting_it(tmp_path):
    path = scenario_file(tmp_path, '[scenario]\nmodel = "sim"\n[parameters]\nalpha1 = 0.7\n')
    scenario, model = read_scenario(path)
    _, changed = run_scenario(model, scenario)
    direct = drypowder.load("sim").set(alpha1=0.7).run()
    pd.testing.assert_frame_equal(changed, direct)
    assert changed["Y"][1] == pytest.approx(20 / (1 - 0.7 * 0.8), rel=1e-13)


def test_dates_work_when_the_model_has_a_calendar(tmp_path, write_model):
    model_path = write_model(
        "Y = G + 0.5*Y(-1)",
        exogenous="G = 1",
        extra='calendar = { start = "2019Q1", frequency = "quarterly" }',
    )
    model = drypowder.load(model_path)
    path = scenario_file(
        tmp_path, '[scenario]\nperiods = 12\n[[shocks]]\nvariable = "G"\nstart = "2020Q2"\nvalue = 2\n'
    )
    scenario, _ = read_scenario(path, model)
    assert scenario.shocks[0].start == 5  # 2019Q1 is period 0
    _, results = run_scenario(model, scenario)
    assert results.attrs["dates"][5] == "2020Q2"
    assert list(results["G"][4:6]) == [1, 2]


@pytest.mark.parametrize(
    "body, error, message",
    [
        ('[[shocks]]\nvariable = "Gx"\nstart = 5\nvalue = 1\n', UnknownNameError, "shock 1: a shock names 'Gx'"),
        (
            '[[shocks]]\nvariable = "Y"\nstart = 5\nvalue = 1\n',
            ModelFileError,
            "shock 1: a shock names Y, which is endogenous",
        ),
        (
            '[[shocks]]\nvariable = "Gd"\nstart = 99\nvalue = 1\n',
            ModelFileError,
            "reaches period 99, after the run's last period 60",
        ),
        (
            '[[shocks]]\nvariable = "Gd"\nstart = 5\nend = 7\npath = [1, 2]\n',
            ModelFileError,
            "the path has 2 values but start..end covers 3 periods",
        ),
        ('[[shocks]]\nvariable = "Gd"\nstart = 59\npath = [1, 2, 3]\n', ModelFileError, "reaches period 61, after"),
        (
            '[[shocks]]\nvariable = "Gd"\nstart = "2020Q1"\nvalue = 1\n',
            ModelFileError,
            "is a date, but the model has no [model] calendar",
        ),
        (
            "[parameters]\nalpah1 = 0.7\n",
            UnknownNameError,
            "'alpah1' is not a parameter of model SIM. Did you mean alpha1",
        ),
        ("[parameters]\nGd = 25\n", ModelFileError, "Gd is exogenous, not a parameter: shock it under [[shocks]]"),
        ('[[shocks]]\nvariable = "Gd"\nstart = 5\nkind = "ramp"\nvalue = 1\n', ModelFileError, "a ramp needs 'end'"),
        (
            '[[shocks]]\nvariable = "Gd"\nstart = 5\nvalue = 1\nhold = true\n',
            ModelFileError,
            "'hold' belongs to a path shock; a step shock keeps its value until 'end'",
        ),
        (
            '[[shocks]]\nvariable = "Gd"\nstart = 5\npath = [1]\nhold = "yes"\n',
            ModelFileError,
            "'hold' must be true or false",
        ),
        (
            '[[shocks]]\nvariable = "Gd"\nstart = 59\npath = [1, 2, 3]\nhold = true\n',
            ModelFileError,
            "reaches period 61",
        ),
    ],
)
def test_bad_scenario_files_name_the_file_and_line(tmp_path, body, error, message):
    path = scenario_file(tmp_path, '[scenario]\nmodel = "sim"\n\n' + body)
    with pytest.raises(error) as raised:
        read_scenario(path)
    line = 5 if body.startswith("[parameters]") else 4  # the parameter's own line; a shock's [[shocks]] line
    assert str(raised.value).startswith(f"{path}, line {line}")
    assert message in str(raised.value)


def test_compare_on_the_command_line(cli, tmp_path):
    path = scenario_file(tmp_path, '[scenario]\nname = "more G"\n[[shocks]]\nvariable = "Gd"\nstart = 10\nadd = 5\n')
    csv = tmp_path / "compare.csv"
    code, out, err = cli("compare", "sim", "--scenario", path, "--variables", "Y", "--csv", csv)
    assert code == 0, err
    assert "The scenario's first change is in period 10; before it the two runs are identical." in out
    frame = pd.read_csv(csv, index_col="period")
    assert list(frame.columns) == ["Y_baseline", "Y_scenario", "Y_difference", "Y_percent"]
    assert (frame.loc[:9, "Y_difference"] == 0).all()
    assert frame.loc[10, "Y_difference"] == pytest.approx(5 / 0.52, rel=1e-12)


# --- multipliers ----------------------------------------------------------------------------------


def _sim_response(p, horizon):
    """SIM's dynamic response to a unit step in G from rest, by the model's own algebra (no engine)."""
    k = 1 / (1 - p["alpha1"] * (1 - p["theta"]))
    h, out = 0.0, []
    for _ in range(horizon):
        y = k * (1 + p["alpha2"] * h)
        h = h + (1 - p["theta"]) * y - (p["alpha1"] * (1 - p["theta"]) * y + p["alpha2"] * h)
        out.append(y)
    return np.array(out)


def test_sim_fiscal_multipliers_equal_their_closed_forms():
    model = drypowder.load("sim")
    p = model.parameters
    result = multipliers(model, "Gd", ["Y"], horizon=30)
    expected = _sim_response(p, 30)
    assert result.impact["Y"] == pytest.approx(1 / (1 - p["alpha1"] * (1 - p["theta"])), rel=1e-12)
    assert np.max(np.abs(result.response["Y"].to_numpy() - expected)) < 1e-11
    assert result.cumulative["Y"] == pytest.approx(expected.mean(), rel=1e-12)
    assert result.long_run["Y"] == pytest.approx(1 / p["theta"], rel=1e-10)


def test_multipliers_of_a_nonlinear_model_do_not_depend_much_on_the_step_size():
    model = drypowder.load("pc")
    small = multipliers(model, "G", ["Y"], horizon=8, size=0.01, long_run=False)
    large = multipliers(model, "G", ["Y"], horizon=8, size=1.0, long_run=False)
    assert small.impact["Y"] == pytest.approx(large.impact["Y"], rel=1e-9)  # PC is linear in G on impact
    assert np.max(np.abs(small.response["Y"] - large.response["Y"])) < 1e-3


def test_multiplier_errors_are_clear():
    model = drypowder.load("sim")
    with pytest.raises(UnknownNameError, match=r"has no exogenous variable 'G'. Did you mean Gd\?"):
        multipliers(model, "G", ["Y"])
    with pytest.raises(
        drypowder.ModelError, match=r"alpha1 is parameter; multipliers are taken with respect to exogenous"
    ):
        multipliers(model, "alpha1", ["Y"])
    with pytest.raises(UnknownNameError, match=r"has no variable 'Yd'"):
        multipliers(model, "Gd", ["Yd"])


def test_steady_and_multipliers_on_the_command_line(cli, tmp_path):
    code, out, _ = cli("steady", "sim", "--variables", "Y,Hh")
    assert code == 0
    assert out.startswith("SIM: steady state with Gd = 20, W = 1 (the values the experiment ends with)")
    assert [line.split()[:2] for line in out.splitlines() if line.startswith(("Y ", "Hh "))] == [
        ["Y", "100.000000"],
        ["Hh", "80.000000"],
    ]
    assert "Stability: stable: largest eigenvalue modulus 0.846154 (besides 1 unit root" in out
    csv = tmp_path / "irf.csv"
    code, out, _ = cli("multipliers", "sim", "--of", "Gd", "--on", "Y", "--horizon", "5", "--csv", csv)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("Y "))
    assert row.split() == ["Y", "1.923077", "2.735029", "5.000000"]
    assert pd.read_csv(csv)["Y"].iloc[0] == pytest.approx(1 / 0.52, rel=1e-12)


@pytest.mark.parametrize("name", ["sim_fiscal_expansion", "pc_rate_cut"])
def test_shipped_scenarios_run_by_name(cli, name):
    code, out, err = cli("compare", name.split("_")[0], "--scenario", name)
    assert code == 0, err
    assert "before it the two runs are identical" in out


def test_sweep_on_the_command_line(cli, tmp_path, capsys):
    import xarray as xr

    out_file = tmp_path / "sweep.nc"
    code, out, err = cli(
        "sweep", "pc", "--vary", "alpha1=0.55:0.65", "--draws", "50", "--seed", "3", "--out", out_file, "--no-progress"
    )
    assert code == 0, err
    assert out.startswith("PC: 50 runs of 60 periods, varying alpha1 in [0.55, 0.65] (uniform draws, seed 3)")
    saved = xr.open_dataset(out_file, engine="scipy")
    k = 7
    single = drypowder.load("pc").set(alpha1=float(saved["input_alpha1"][k])).run()
    assert float(abs(saved["Y"][k, -1] - single["Y"].iloc[-1])) < 1e-12 * single["Y"].iloc[-1]
    code, _, err = cli("sweep", "pc", "--vary", "alpha1=0.55")
    assert code == 2 and err.startswith("error: --vary expects NAME=LOW:HIGH")
    arguments = ("sweep", "pc", "--vary", "alpha1=0.55:0.65", "--draws", "50", "--seed", "3", "--no-progress")
    one = cli(*arguments, "--threads", "1")[1]
    assert one == cli(*arguments, "--threads", "3")[1] and out.startswith(one.rstrip())
    with pytest.raises(SystemExit) as stopped:  # argparse's own usage error
        cli(*arguments, "--threads", "0")
    assert stopped.value.code == 2
    assert "argument --threads: expected a number >= 1, got 0" in capsys.readouterr().err


def test_a_sweep_on_the_command_line_can_keep_going_past_failed_draws(cli, write_model):
    path = write_model("y = log(a - 1) + 0.5*y(-1)", parameters="a = 2", initial="y = 0")
    code, out, err = cli("sweep", path, "--vary", "a=0.5:3", "--draws", "40", "--no-progress", "--keep-failures")
    assert code == 0, err
    failed = int(out.split(" draw(s) could not be solved")[0].split("\n")[-1])
    assert 0 < failed < 40  # a <= 1: the log of a non-positive number, every other draw solved
    assert "draw" in out.split("the first:")[1].splitlines()[1]  # the reason names its draw
    code, _, err = cli("sweep", path, "--vary", "a=0.5:3", "--draws", "40", "--no-progress")
    assert code == 3 and err.startswith("error:")  # without the flag the first failure stops the sweep
