"""Every failure a user can cause: its own class, a message that says where and what to do."""

from __future__ import annotations

import pytest

from drypowder import (
    ConvergenceError,
    DrypowderError,
    DuplicateDefinitionError,
    ModelError,
    ModelFileError,
    NonFiniteError,
    SingularBlockError,
    SystemNotClosedError,
    UnknownNameError,
    load,
)


def test_every_error_class_shares_one_base_and_an_exit_code():
    for cls, code in [
        (ModelFileError, 2),
        (UnknownNameError, 2),
        (DuplicateDefinitionError, 2),
        (SystemNotClosedError, 2),
        (ConvergenceError, 3),
        (SingularBlockError, 3),
        (NonFiniteError, 3),
    ]:
        assert issubclass(cls, DrypowderError)
        assert cls.exit_code == code


def test_an_unknown_name_suggests_the_closest_known_names(write_model):
    path = write_model("Y = C + Gov\nC = alpha*Y", parameters="alpha = 0.5", exogenous="G = 20")
    with pytest.raises(UnknownNameError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}, line 13, column 1: unknown name 'Gov' in the equation for Y.")
    assert "Did you mean G?" in str(error.value)
    assert "add it under [parameters] (constant) or [exogenous] (a series)" in str(error.value)


def test_a_variable_defined_twice_names_both_lines(write_model):
    path = write_model("Y = C + G\nC = 0.5*Y\nY = 2*C", exogenous="G = 20")
    with pytest.raises(DuplicateDefinitionError) as error:
        load(path)
    assert str(error.value) == (
        f"{path}, line 15, column 1: Y is defined twice (also at {path}, line 13, column 1); each variable "
        "has exactly one equation: remove or rename one"
    )


def test_an_equation_for_a_given_value_is_a_duplicate(write_model):
    with pytest.raises(
        DuplicateDefinitionError, match=r"line 13.*G has an equation but is also given in \[exogenous\]"
    ):
        load(write_model("G = 1\nY = G", exogenous="G = 20"))


def test_a_name_both_parameter_and_exogenous_is_a_duplicate(write_model):
    with pytest.raises(DuplicateDefinitionError, match=r"a is given both in \[parameters\] and in \[exogenous\]"):
        load(write_model("Y = a", parameters="a = 1", exogenous="a = 2"))


def test_fewer_equations_than_declared_variables_names_the_missing(write_model):
    path = write_model("Y = C + G\nC = 0.5*Y", exogenous="G = 20", extra='variables = ["Y", "C", "H"]')
    with pytest.raises(SystemNotClosedError) as error:
        load(path)
    assert str(error.value) == (
        f"{path}: 2 equations for 3 declared variables ([model] variables): no equation for H. "
        "Add the missing equations or fix the list"
    )


def test_more_equations_than_declared_variables_names_the_extra(write_model):
    path = write_model("Y = C + G\nC = 0.5*Y\nH = Y", exogenous="G = 20", extra='variables = ["Y", "C"]')
    with pytest.raises(SystemNotClosedError, match=r"3 equations for 2 declared variables.*equations for undeclared H"):
        load(path)


def test_an_initial_value_without_an_equation_does_not_close(write_model):
    path = write_model("Y = C + G\nC = 0.5*Y", exogenous="G = 20", initial="Hh = 1")
    with pytest.raises(SystemNotClosedError, match=r"gives a starting value for Hh, but no equation defines Hh"):
        load(path)


def test_bad_toml_says_line_and_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nname = "X\n')
    with pytest.raises(ModelFileError, match=r"bad.toml: not valid TOML: .*line 2"):
        load(path)


def test_a_missing_file_and_an_unknown_model_name_are_clear(tmp_path):
    with pytest.raises(ModelFileError, match=r"nothere.toml: no such model file"):
        load(tmp_path / "nothere.toml")
    with pytest.raises(ModelFileError, match=r"no shipped model is called 'simm'.*Did you mean sim"):
        load("simm")


def test_a_non_number_value_is_refused(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[model]\nname = "X"\n[parameters]\na = "0.5"\n[equations]\ntext = """\nY = a\n"""\n')
    with pytest.raises(ModelFileError, match=r"m.toml, line 4, column 1: \[parameters\] a must be a number, got '0.5'"):
        load(path)


def test_setting_an_unknown_or_endogenous_name_is_refused(write_model):
    model = load(write_model("Y = C + G\nC = alpha*Y", parameters="alpha = 0.5", exogenous="G = 20"))
    with pytest.raises(UnknownNameError, match=r"has no parameter or exogenous variable 'alpah'. Did you mean alpha\?"):
        model.set(alpah=0.6)
    with pytest.raises(ModelError, match=r"Y is endogenous \(computed by the equation at .*line 13"):
        model.set(Y=1)
    with pytest.raises(ModelError, match=r"the value for G must be finite, got nan"):
        model.set(G=float("nan"))


def test_a_singular_block_names_period_block_and_variables(write_model):
    # Y and C determine each other only through Y - C = G: the block is singular.
    model = load(write_model("Y = C + G\nC = Y - G", exogenous="G = 20"))
    with pytest.raises(SingularBlockError) as error:
        model.run(periods=3)
    assert str(error.value).startswith("period 1: block 1 (Y, C) has a singular Jacobian")
    assert "an accounting identity written twice is a common cause" in str(error.value)


def test_a_nan_names_the_equation_period_and_inputs(write_model):
    path = write_model("K = K(-1) - 1\nY = log(K)", initial="K = 2")
    with pytest.raises(NonFiniteError) as error:
        load(path).run(periods=5)
    assert str(error.value).startswith(
        f"period 2: the equation for Y ({path}, line 14, column 1) gives -inf; its inputs were K=0. "
        "Look for a division by zero"
    )


def test_non_convergence_names_the_block_and_residual(write_model):
    # x = 1 - y, y = x: a Gauss-Seidel sweep maps x to 1 - x, so it oscillates forever around 0.5
    model = load(write_model("x = 1 - y\ny = x", initial="x = 1\ny = 1"))
    with pytest.raises(ConvergenceError) as error:
        model.run(periods=2, method="gauss-seidel")
    message = str(error.value)
    assert message.startswith("period 1: block 1 (x, y) did not converge in 1000 Gauss-Seidel iterations")
    assert "Try --method newton" in message
    assert model.run(periods=2)["x"][2] == pytest.approx(0.5, abs=1e-14)


def test_newton_solves_a_positive_variable_in_its_logarithm(write_model):
    # r(p) = 1/p - c: from p = 3 a plain Newton step goes to 2p - c*p**2 = -3 and then diverges.
    path = write_model("p = p - (1/p - c)", exogenous="c = 1", initial="p = 3", extra='positive = ["p"]')
    results = load(path).run(periods=2)
    assert results["p"][1] == pytest.approx(1.0, rel=1e-9)  # |1/p - c| <= 1e-10 * p: the tolerance
    assert results["p"][2] == pytest.approx(1.0, rel=1e-9)


def test_the_model_file_sets_the_solvers_absolute_tolerance(write_model):
    """[model] absolute_tolerance is in the model's units and reaches every run's solver options."""
    assert load(write_model("x = 1")).solver_options().absolute_tolerance == 1e-12  # the default
    model = load(write_model("x = 1", extra="absolute_tolerance = 1e-6"))
    assert model.solver_options(tolerance=1e-8).absolute_tolerance == 1e-6
    assert model.solver_options(absolute_tolerance=0.5).absolute_tolerance == 0.5  # a caller's value wins


def test_a_bad_absolute_tolerance_is_refused(write_model):
    with pytest.raises(ModelFileError, match=r"\[model\] absolute_tolerance must be between 0 and 1"):
        load(write_model("x = 1", extra="absolute_tolerance = 2"))
