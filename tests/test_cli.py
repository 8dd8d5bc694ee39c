"""The command line as a newcomer uses it: output, files written, exit codes, error text on stderr."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import drypowder


def test_models_lists_every_shipped_model_with_its_description(cli):
    code, out, err = cli("models")
    assert code == 0 and err == ""
    for model in drypowder.shipped_models():
        assert f"  {model.name:<10} {model.description}" in out
    assert {"sim", "simex", "pc", "pcex", "lp"} <= {m.name for m in drypowder.shipped_models()}


def test_run_prints_the_main_variables(cli):
    code, out, err = cli("run", "sim", "--periods", "5")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("SIM: Godley & Lavoie (2007) ch. 3")
    header = next(line for line in lines if line.split()[:1] == ["Y"])
    assert header.split() == ["Y", "YD", "Cd", "Hh"]
    period_1 = next(line for line in lines if line.startswith("1 "))
    assert period_1.split() == ["1", "38.4615", "30.7692", "18.4615", "12.3077"]


def test_run_writes_a_full_precision_csv(cli, tmp_path):
    path = tmp_path / "sim.csv"
    code, out, _ = cli("run", "sim", "--periods", "10", "--csv", path)
    assert code == 0
    frame = pd.read_csv(path)
    assert list(frame.columns[:1]) == ["period"]
    assert list(frame["period"]) == list(range(11))
    assert set(drypowder.load("sim").spec.series) == set(frame.columns[1:])
    assert frame["Y"][1] == 20 / (1 - 0.6 * 0.8)  # exact to the last bit: 17 significant digits written
    assert f"wrote 11 periods x {frame.shape[1] - 1} variables to {path}" in out


def test_run_set_overrides_a_parameter(cli, tmp_path):
    path = tmp_path / "sim.csv"
    code, _, _ = cli("run", "sim", "--periods", "1", "--set", "alpha1=0.7", "--csv", path)
    assert code == 0
    assert pd.read_csv(path)["Y"][1] == pytest.approx(20 / (1 - 0.7 * 0.8), rel=1e-14)


def test_run_saves_a_plot(cli, tmp_path):
    path = tmp_path / "sim.png"
    code, out, _ = cli("run", "sim", "--plot", path)
    assert code == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"saved plot of Y, YD, Cd, Hh to {path}" in out


@pytest.mark.parametrize("method", ["newton", "gauss-seidel", "broyden"])
def test_every_method_gives_the_same_numbers(cli, tmp_path, method):
    # Each method stops once every residual is below --tol; stocks accumulate what is left, so compare
    # at a tight tolerance to see that the methods agree, not merely that they all stopped.
    path = tmp_path / f"{method}.csv"
    assert cli("run", "pc", "--method", method, "--tol", "1e-13", "--csv", path)[0] == 0
    newton = drypowder.load("pc").run(tolerance=1e-13)
    frame = pd.read_csv(path, index_col="period")
    # Gauss-Seidel's leftover error (below 1e-13 per period) adds up in the stocks: 2.3e-11 after 60
    assert ((frame - newton).abs() / newton.abs().clip(lower=1)).max().max() < 1e-10


def test_blocks_prints_the_solve_order(cli):
    code, out, _ = cli("blocks", "sim")
    assert code == 0
    assert out.splitlines()[0] == "SIM: 11 equations in 4 blocks (1 simultaneous), solved in this order each period:"
    assert "    2. [simultaneous, 8 variables] Cs, Ts, Ns, YD, Td, Cd, Y, Nd" in out
    assert "[recursive] Hh" in out


@pytest.mark.parametrize(
    "args, code, first_line",
    [
        (["run", "simm"], 2, "error: no shipped model is called 'simm'"),
        (["run", "sim", "--set", "alpha=0.7"], 2, "error: model SIM has no parameter or exogenous variable 'alpha'."),
        (["run", "sim", "--set", "alpha1"], 2, "error: --set expects NAME=VALUE, got 'alpha1'"),
        (["run", "sim", "--set", "alpha1=abc"], 2, "error: --set alpha1: 'abc' is not a number"),
        (["run", "sim", "--variables", "Z"], 2, "error: --variables: 'Z' is not a variable of model SIM"),
        (["run", "sim", "--tol", "2"], 2, "error: the tolerance must be between 0 and 1, got 2.0"),
    ],
)
def test_bad_input_exits_2_with_an_error_line(cli, args, code, first_line):
    status, out, err = cli(*args)
    assert status == code
    assert out == ""
    assert err.startswith(first_line)


def test_a_solve_failure_exits_3(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nname = "BAD"\n[equations]\ntext = """\nK = K(-1) - 1\nY = log(K)\n"""\n')
    status, out, err = cli("run", path, "--periods", "3")
    assert status == 3
    assert err.startswith("error: period 1: the equation for Y")
    assert "(NonFiniteError, exit code 3)" in err


def test_the_console_script_is_installed_and_usage_errors_exit_2():
    done = subprocess.run([sys.executable, "-m", "drypowder.cli", "run"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "the following arguments are required: model" in done.stderr
    done = subprocess.run(["drypowder", "models"], capture_output=True, text=True)
    assert done.returncode == 0 and "sim" in done.stdout


def test_a_plain_run_never_imports_pandas_or_matplotlib(tmp_path):
    """Start-up is a target (benchmarks/startup.py): pandas' import alone is half of a short run, so the run
    verb prints from the run's array and makes a DataFrame only for --csv or a plot."""
    import subprocess
    import sys

    code = (
        "import sys; from drypowder.cli import main; main(['run', 'sim', '--periods', '3']); "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'xarray') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stdout.splitlines()[-1] == "[]"
    assert "3       55.9399" in done.stdout  # the table is still printed, as pandas would lay it out


def test_a_file_that_cannot_be_written_exits_2_with_the_path(cli, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    code, _, err = cli("run", "sim", "--periods", "5", "--csv", blocker / "sim.csv")
    assert code == 2
    first, advice = err.splitlines()[:2]
    assert first.startswith("error: ") and str(blocker) in first  # pandas: "Cannot save file into a ... directory"
    assert advice == "  check the path and its permissions (exit code 2)"
