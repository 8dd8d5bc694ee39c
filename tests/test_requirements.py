"""[[requires]]: bad inputs are caught before solving, naming the condition, the value and its origin."""

from __future__ import annotations

from pathlib import Path

import pytest

import drypowder
from drypowder import RequirementError, UnknownNameError
from drypowder.sweep import Vary, run_sweep

MODEL = """[model]
name = "REQ"
[parameters]
floor = 5
[exogenous]
capex = 10
[initial]
L = 20
[equations]
text = \"\"\"
L = L(-1) + 1 - 0.01*capex
\"\"\"

[[requires]]
condition = "capex >= 0"
message = "AI capex cannot be negative."

[[requires]]
condition = "L > floor and floor >= 0"
message = "The starting liquidity must be above a non-negative floor."
"""


@pytest.fixture
def model_path(tmp_path) -> Path:
    path = tmp_path / "req.toml"
    path.write_text(MODEL)
    return path


def test_a_negative_path_value_names_the_period_and_the_scenario(model_path, tmp_path):
    scenario = tmp_path / "negative.toml"
    scenario.write_text('[scenario]\nperiods = 10\n[[shocks]]\nvariable = "capex"\nstart = 4\nvalue = -3\n')
    model = drypowder.load(model_path)
    plan, _ = drypowder.read_scenario(scenario, model)
    with pytest.raises(RequirementError) as error:
        drypowder.run_scenario(model, plan)
    assert str(error.value) == (
        f"scenario {scenario}: the inputs break the requirement 'capex >= 0' ({model_path}, line 14, column 1) "
        "in period 4: capex = -3. AI capex cannot be negative."
    )


def test_a_floor_above_the_starting_liquidity_is_refused(model_path):
    model = drypowder.load(model_path).set(floor=30)
    with pytest.raises(RequirementError, match=r"'L > floor and floor >= 0' .* in period 0: L = 20, floor = 30\."):
        model.run(periods=3)
    assert drypowder.load(model_path).run(periods=3)["L"].iloc[-1] == pytest.approx(20 + 3 * 0.9)


def test_a_sweep_names_the_draw_that_breaks_a_requirement(model_path):
    model = drypowder.load(model_path)
    with pytest.raises(RequirementError, match=r"in period 0 \(draw \d+: capex=-"):
        run_sweep(model, [Vary("capex", -5, 5)], draws=20, periods=3, seed=1, progress=False)


def test_a_requirement_with_an_unknown_name_is_refused_at_load(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(MODEL.replace('"capex >= 0"', '"capx >= 0"'))
    with pytest.raises(
        UnknownNameError, match=r"line 14, column 1: requirement 'capx >= 0' uses an unknown name 'capx'"
    ):
        drypowder.load(path)


def test_a_comparison_of_variables_is_checked_by_value_and_one_of_numbers_is_decided_at_load(tmp_path):
    import sympy

    from drypowder.parse import Where, parse_condition

    where = Where("f", 1)
    assert isinstance(parse_condition("abs(capex) >= 0", where), sympy.GreaterThan)  # sympy would say True
    assert parse_condition("2 > 1 and 1 >= 1", where) is sympy.true
    assert parse_condition("2 > 1 and 1 > 2", where) is sympy.false
    path = tmp_path / "tautology.toml"
    path.write_text(MODEL.replace('"capex >= 0"', '"abs(capex) >= 0"').replace('"L > floor', '"1 > 2 or L > floor'))
    assert drypowder.load(path).run(periods=3)["L"].iloc[-1] == pytest.approx(20 + 3 * 0.9)
    with pytest.raises(RequirementError, match=r"'1 > 2 or L > floor and floor >= 0' .* L = 20, floor = 30\."):
        drypowder.load(path).set(floor=30).run(periods=3)
