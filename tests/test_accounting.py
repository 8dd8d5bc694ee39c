"""Accounting that checks itself: matrices against the equations, every period, and broken copies caught."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import drypowder
from drypowder import AccountingError, ModelFileError, UnknownNameError
from drypowder.accounting import hidden_equations, identities

HIDDEN = tomllib.loads((Path(__file__).parent / "data" / "gl_hidden_equations.toml").read_text())
MODELS = ["sim", "simex", "pc", "pcex", "lp"]


@pytest.mark.parametrize("name", MODELS)
def test_shipped_models_balance_in_every_period(name):
    model = drypowder.load(name)
    assert set(model.spec.matrices) == {"balance_sheet", "transactions"}
    results = model.run()
    assert results.attrs["max_relative_imbalance"] < 1e-13


@pytest.mark.parametrize("name", MODELS)
def test_every_identity_follows_from_the_equations_and_the_hidden_one_is_found(name):
    model = drypowder.load(name)
    statuses = identities(model)
    assert [s.check.label for s in statuses if s.status == "fails"] == []
    hidden = hidden_equations(statuses)
    assert [s.equation for s in hidden] == [HIDDEN[name]["equation"]]


def _corrupt(path: Path, matrix: str, row: str, column: int, replacement: str) -> Path:
    """A copy of a model file with one cell of one matrix row replaced."""
    text = path.read_text()
    section = text.index(f"[{matrix}]")
    line_start = text.index(f'name = "{row}"', section)
    line_end = text.index("\n", line_start)
    line = text[line_start:line_end]
    cells = re.search(r"cells\s*=\s*\[(.*)\]", line)
    values = re.findall(r'"([^"]*)"', cells.group(1))
    values[column] = replacement
    new_line = line[: cells.start(1)] + ", ".join(f'"{v}"' for v in values) + line[cells.end(1) :]
    out = path.parent / f"broken_{path.name}"
    out.write_text(text[:line_start] + new_line + text[line_end:])
    return out


def _first_flow(model) -> tuple[str, int, str]:
    """The first transaction row that is not a change in a stock, its first filled cell and text."""
    for row in model.spec.matrices["transactions"].rows:
        if row.change is None and row.revaluation is None:
            column = next(i for i, text in enumerate(row.texts) if text)
            return row.name, column, row.texts[column]
    raise AssertionError("no flow row")


def _copy(name: str, tmp_path: Path) -> Path:
    source = drypowder.load(name).spec.path
    target = tmp_path / Path(source).name
    target.write_text(Path(source).read_text())
    return target


@pytest.mark.parametrize("name", MODELS)
def test_a_missing_flow_is_caught_with_its_cell_named(name, tmp_path, cli):
    model = drypowder.load(name)
    row, column, _ = _first_flow(model)
    sector = model.spec.matrices["transactions"].columns[column]
    broken = _corrupt(_copy(name, tmp_path), "transactions", row, column, "")
    with pytest.raises(AccountingError) as error:
        drypowder.load(broken).run()
    message = str(error.value)
    assert f"transactions-flow matrix, row '{row}' does not add up in period 1" in message
    assert f"cell ('{row}', '{sector}') is empty but both its row and column are short" in message
    code, out, _ = cli("check", broken)
    assert code == 4
    assert f"!! transactions-flow matrix, row '{row}': DOES NOT follow from the equations" in out
    assert f"!! transactions-flow matrix, column '{sector}': DOES NOT follow from the equations" in out


@pytest.mark.parametrize("name", MODELS)
def test_a_wrong_sign_is_caught_with_its_cell_named(name, tmp_path):
    model = drypowder.load(name)
    row, column, text = _first_flow(model)
    flipped = ("-" + text[1:]) if text.startswith("+") else ("+" + text[1:] if text.startswith("-") else f"-({text})")
    broken = _corrupt(_copy(name, tmp_path), "transactions", row, column, flipped)
    with pytest.raises(AccountingError) as error:
        drypowder.load(broken).run()
    sector = model.spec.matrices["transactions"].columns[column]
    assert f"cell ('{row}', '{sector}'), written '{flipped}', looks like it has the wrong sign" in str(error.value)


def test_the_check_can_be_switched_off_for_exploration(tmp_path):
    model = drypowder.load("sim")
    row, column, _ = _first_flow(model)
    broken = drypowder.load(_corrupt(_copy("sim", tmp_path), "transactions", row, column, ""))
    results = broken.run(check_accounting=False)
    assert "max_relative_imbalance" not in results.attrs
    assert broken.check_accounting(results).failures


def test_a_stock_that_moves_without_its_flow_fails_the_stock_flow_check(write_model):
    # Both money stocks gain 1 each period that no flow pays for: every row and column still adds up
    # (the flow matrix records saving, not d(Hh)), so only stocks against flows can catch it.
    path = write_model(
        "YD = G\nC = 0.5*YD\nHh = Hh(-1) + YD - C + 1\nHs = Hs(-1) + G - C + 1",
        exogenous="G = 10",
    )
    Path(path).write_text(
        Path(path).read_text() + '[balance_sheet]\ncolumns = ["Households", "Government"]\n'
        'rows = [ { name = "Money", cells = ["+Hh", "-Hs"] }, { name = "Net worth", cells = ["-Hh", "+Hs"] } ]\n'
        '[transactions]\ncolumns = ["Households", "Government"]\n'
        'rows = [ { name = "Spending", cells = ["+YD", "-G"] }, { name = "Consumption", cells = ["-C", "+C"] },\n'
        '  { name = "Change in money", change = "Money", cells = ["-(YD - C)", "+(G - C)"] } ]\n'
    )
    with pytest.raises(AccountingError) as error:
        drypowder.load(path).run(periods=3)
    assert str(error.value).startswith(
        "model TEST: stocks and flows, 'Money' of Households does not add up in period 1: it is off by 1,"
    )
    assert "The stock changed by a different amount than its flows and revaluations" in str(error.value)


def test_matrix_errors_name_the_file_and_row(write_model):
    path = Path(write_model("Y = G", exogenous="G = 1"))
    base = path.read_text()
    path.write_text(base + '[balance_sheet]\ncolumns = ["A", "B"]\nrows = [ { name = "Money", cells = ["+Y"] } ]\n')
    with pytest.raises(ModelFileError, match=r"line 17, column 1: row 'Money' needs one cell per column \(2: A, B\)"):
        drypowder.load(path)
    path.write_text(
        base + '[balance_sheet]\ncolumns = ["A", "B"]\nrows = [ { name = "Money", cells = ["+Y", "-Z"] } ]\n'
    )
    with pytest.raises(UnknownNameError, match=r"balance sheet, row 'Money', column 'B': unknown name 'Z'"):
        drypowder.load(path)
    path.write_text(
        base + '[balance_sheet]\ncolumns = ["A"]\nrows = [ { name = "Money", cells = ["+Y"] } ]\n'
        '[transactions]\ncolumns = ["A"]\nrows = [ { name = "dM", change = "Cash", cells = ["-d(Y)"] } ]\n'
    )
    with pytest.raises(ModelFileError, match=r"flow row 'dM' refers to balance-sheet row 'Cash', which does not exist"):
        drypowder.load(path)


# --- property-based: random consistent models stay silent; any single corruption is caught --------


def _random_model(sectors: int, flows: list[tuple[int, int, float, float]]) -> str:
    """Sectors pay each other flows F = c*S + e*D_payer(-1) in deposits issued by a bank."""
    equations, tfm_rows = [], []
    names = [f"S{j}" for j in range(sectors)]
    for k, (payer, receiver, c, e) in enumerate(flows):
        equations.append(f"F{k} = {c!r}*S + {e!r}*D{payer}(-1)")
        cells = [""] * (sectors + 1)
        cells[payer], cells[receiver] = f"-F{k}", f"+F{k}"
        tfm_rows.append((f"Flow {k}", cells))
    for j in range(sectors):
        received = "".join(f" + F{k}" for k, f in enumerate(flows) if f[1] == j)
        paid = "".join(f" - F{k}" for k, f in enumerate(flows) if f[0] == j)
        equations.append(f"D{j} = D{j}(-1){received}{paid}")
    equations.append("Db = Db(-1)")
    initial = [f"D{j} = {100.0 + 10 * j!r}" for j in range(sectors)] + [
        f"Db = {sum(100.0 + 10 * j for j in range(sectors))!r}"
    ]
    columns = ", ".join(f'"{n}"' for n in [*names, "Bank"])

    def row(name, cells, extra=""):
        return (
            f'  {{ name = "{name}",{extra} cells = [{", ".join(repr(c).replace(chr(39), chr(34)) for c in cells)}] }},'
        )

    change = [f"-d(D{j})" for j in range(sectors)] + ["+d(Db)"]
    return "\n".join(
        [
            '[model]\nname = "RANDOM"\n[parameters]\n[exogenous]\nS = 10',
            "[initial]",
            *initial,
            '[equations]\ntext = """',
            *equations,
            '"""',
            f"[balance_sheet]\ncolumns = [{columns}]\nrows = [",
            row("Deposits", [f"+D{j}" for j in range(sectors)] + ["-Db"]),
            row("Net worth", [f"-D{j}" for j in range(sectors)] + ["+Db"]),
            "]",
            f"[transactions]\ncolumns = [{columns}]\nrows = [",
            *(row(name, cells) for name, cells in tfm_rows),
            row("Change in deposits", change, ' change = "Deposits",'),
            "]",
        ]
    )


@st.composite
def random_models(draw):
    sectors = draw(st.integers(2, 4))
    pairs = st.tuples(st.integers(0, sectors - 1), st.integers(0, sectors - 1)).filter(lambda p: p[0] != p[1])
    flows = draw(
        st.lists(
            st.tuples(pairs, st.floats(0.5, 2.0), st.floats(0.0, 0.05)).map(lambda t: (*t[0], t[1], t[2])),
            min_size=1,
            max_size=5,
        )
    )
    return sectors, flows


@settings(max_examples=25, deadline=None)
@given(random_models(), st.data())
def test_random_consistent_models_pass_and_single_corruptions_are_caught(tmp_path_factory, spec, data):
    sectors, flows = spec
    folder = tmp_path_factory.mktemp("random")
    path = folder / "random.toml"
    path.write_text(_random_model(sectors, flows))
    model = drypowder.load(path)
    results = model.run(periods=8)
    assert results.attrs["max_relative_imbalance"] < 1e-12
    statuses = identities(model)
    assert [s.check.label for s in statuses if s.status == "fails"] == []
    assert [s.equation for s in hidden_equations(statuses)] == [" + ".join(f"D{j}" for j in range(sectors)) + " = Db"]
    # corrupt one cell of one flow: drop it, flip its sign, or scale it
    k = data.draw(st.integers(0, len(flows) - 1))
    payer, receiver = flows[k][0], flows[k][1]
    column = data.draw(st.sampled_from([payer, receiver]))
    sign = "-" if column == payer else "+"
    replacement = data.draw(st.sampled_from(["", "+" if sign == "-" else "-", "scale"]))
    text = {"": "", "+": f"+F{k}", "-": f"-F{k}", "scale": f"{sign}1.5*F{k}"}[replacement]
    broken = drypowder.load(_corrupt(path, "transactions", f"Flow {k}", column, text))
    with pytest.raises(AccountingError, match=rf"row 'Flow {k}' does not add up in period 1"):
        broken.run(periods=8)


# --- what a user sees: sector balances, flows, matrices ----------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_sector_net_lending_sums_to_zero(name):
    model = drypowder.load(name)
    results = model.run()
    balances = model.net_lending(results)
    assert list(balances.columns) == list(model.spec.matrices["balance_sheet"].columns)
    size = balances.abs().sum(axis=1).max()
    assert balances.sum(axis=1).abs().max() <= 1e-13 * size
    # net lending is the change in net financial wealth: households' equals the change in their money + bills...
    if name == "pc":
        saving = (results["V"] - results["V"].shift(1)).iloc[1:]
        assert (balances["Households"] - saving).abs().max() < 1e-12


def test_payments_add_up_to_each_transaction():
    model = drypowder.load("pc")
    results = model.run()
    payments = model.payments(results, 5)
    taxes = sum(amount for row, payer, receiver, amount in payments if row == "Taxes")
    assert taxes == pytest.approx(results["T"][5], rel=1e-14)
    assert all(amount > 0 and payer != receiver for _, payer, receiver, amount in payments)


@pytest.mark.parametrize("fmt, marker", [("md", "| Money "), ("latex", r"\begin{tabular}"), ("html", "<table>")])
def test_matrix_prints_symbols_and_values(cli, fmt, marker):
    code, out, _ = cli("matrix", "sim", "--format", fmt)
    assert code == 0 and marker in out and "-Hs" in out
    code, out, _ = cli("matrix", "sim", "--period", "1", "--which", "transactions", "--format", "md")
    assert code == 0
    consumption = next(line for line in out.splitlines() if line.startswith("| Consumption"))
    assert [c.strip() for c in consumption.split("|")[1:-1]] == ["Consumption", "-18.4615", "18.4615", "", "0"]


def test_check_prints_the_hidden_equation_and_the_largest_imbalance(cli):
    code, out, _ = cli("check", "pc")
    assert code == 0
    assert "Hidden equation: Hh = Hs   (balance sheet, row 'Money')" in out
    assert "balance sheet, column 'Government': holds if it held last period  ->  V = Bs" in out
    assert "Run (60 periods, the model's experiment): largest relative imbalance" in out


def test_the_plots_are_written(cli, tmp_path):
    code, out, _ = cli("run", "lp", "--plot-net-lending", tmp_path / "nl.png")
    assert code == 0 and (tmp_path / "nl.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = cli("matrix", "lp", "--period", "5", "--sankey", tmp_path / "flows.png")
    assert code == 0 and (tmp_path / "flows.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = cli("blocks", "lp", "--plot", tmp_path / "blocks.png")
    assert code == 0 and (tmp_path / "blocks.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = cli("matrix", "lp", "--sankey", tmp_path / "x.png")
    assert code == 2 and err.startswith("error: --sankey needs --period T")


def test_a_compounding_gap_is_explained_not_blamed_on_a_flow():
    # BMW's Mh - Ms grows by 1 + rl a period: rounding error crosses 1e-9 after about 400 periods
    with pytest.raises(AccountingError) as error:
        drypowder.load("bmw").run(periods=600, backend="numpy")
    message = str(error.value)
    assert "rounding error compounding" in message and "A flow is missing" not in message
    factor = float(message.split("steady factor ")[1].split()[0])
    assert factor == pytest.approx(1 + drypowder.load("bmw").exogenous.get("rl", 0.04), abs=1e-3)
    results = drypowder.load("bmw").run(periods=600, backend="numpy", accounting_tolerance=1e-5)
    assert 1e-9 < results.attrs["max_relative_imbalance"] < 1e-5
