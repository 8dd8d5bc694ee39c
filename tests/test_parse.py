"""The equation grammar: what it accepts becomes the right sympy expression; what it rejects says where."""

from __future__ import annotations

import pytest
import sympy

from drypowder import ParseError, load
from drypowder.parse import Where, lagged, parse_expression, split_symbol

HERE = Where("model.toml", 7, 5)
x, y, G = sympy.symbols("x y G")


def parse(text: str):
    return parse_expression(text, HERE)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x + 2*y", x + 2 * y),
        ("-x ** 2 / y", -(x**2) / y),
        ("+x - (y - 1)", x - y + 1),
        ("x(-1) + x(-3)", lagged("x", 1) + lagged("x", 3)),
        ("d(x)", x - lagged("x", 1)),
        ("exp(x) + log(y) + sqrt(x) + abs(y)", sympy.exp(x) + sympy.log(y) + sympy.sqrt(x) + sympy.Abs(y)),
        ("min(x, y, 3) + max(x, 0)", sympy.Min(x, y, 3) + sympy.Max(x, 0)),
        ("ifelse(x > y, 1, 2)", sympy.Piecewise((1, x > y), (2, True))),
        ("ifelse(x >= 0 and y < 1, x, y)", sympy.Piecewise((x, sympy.And(x >= 0, y < 1)), (y, True))),
        ("1e3 * x", 1000.0 * x),
    ],
)
def test_accepted_forms_become_the_right_expression(text, expected):
    assert sympy.simplify(parse(text) - expected) == 0


def test_smooth_if_blends_between_its_two_values():
    expression = parse("smooth_if(x, 10, 2, 0.01)")
    assert float(expression.subs(x, 1)) == pytest.approx(10)
    assert float(expression.subs(x, -1)) == pytest.approx(2)
    assert float(expression.subs(x, 0)) == pytest.approx(6)


def test_lag_symbols_round_trip():
    assert split_symbol(lagged("Hh", 2)) == ("Hh", 2)
    assert split_symbol(sympy.Symbol("Hh")) == ("Hh", 0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("x +", "model.toml, line 7, column 8: syntax error"),
        ("x.real", "attribute access (a.b) is not allowed"),
        ("x[0]", "subscripts (a[...]) is not allowed"),
        ("'abc'", "the constant 'abc' is not allowed: only numbers are"),
        ("True", "the constant True is not allowed"),
        ("x if y else 1", "Python's 'a if c else b' (use ifelse(c, a, b))"),
        ("x > y", "a comparison can only be the first argument of ifelse"),
        ("f(x)", "f(...) is neither a lag nor a known function"),
        ("x(1)", "x(...) is neither a lag nor a known function. Write a lag as x(-1)"),
        ("x(-0)", "neither a lag nor a known function"),
        ("x(-1.5)", "neither a lag nor a known function"),
        ("exp(x, y)", "exp() takes 1 argument(s), got 2"),
        ("max(x)", "max() takes two or more argument(s), got 1"),
        ("d(x + y)", "d() takes a variable name"),
        ("ifelse(x == y, 1, 2)", "== is not allowed on real numbers"),
        ("log(x=1)", "keyword arguments are not allowed"),
        ("__x__", "'__x__' is not allowed"),
        ("_x", "'_x' is not allowed"),
        ("x % 2", "the operator Mod is not allowed"),
        ("~x", "the unary operator Invert is not allowed"),
        ("1e999", "is not finite"),
        ("", "the right-hand side is empty"),
        ("log(-1) + x", "which is not a finite real number"),
        ("sqrt(-4)", "which is not a finite real number"),
        ("x + 1/0", "which is not a finite real number"),
    ],
)
def test_rejected_forms_say_where_and_why(text, message):
    with pytest.raises(ParseError) as error:
        parse(text)
    assert str(error.value).startswith("model.toml, line 7, column ")
    assert message in str(error.value)


def test_the_column_points_at_the_offending_node():
    with pytest.raises(ParseError, match=r"^model.toml, line 7, column 9: attribute access"):
        parse("x + y.z")  # 'y' is the 5th character of the expression; the expression starts at column 5


def test_errors_in_a_file_name_the_file_line_and_column(write_model):
    path = write_model("Y = C + G\nC = 0.8*Y +* 2", exogenous="G = 20")
    with pytest.raises(ParseError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}, line 14, column ")
    assert "syntax error" in str(error.value)


def test_a_bad_left_hand_side_is_named(write_model):
    with pytest.raises(ParseError, match=r"line 13, column 1: expected 'NAME = expression', got 'Y \+ 1 = C'"):
        load(write_model("Y + 1 = C\nC = 1"))


def test_equations_may_wrap_inside_brackets(write_model):
    model = load(write_model("Y = (C +\n     G)   # wrapped\nC = 0.5*Y", exogenous="G = 10"))
    assert model.spec.equation("Y").where.line == 13
    assert model.spec.equation("C").where.line == 15
    assert model.run(periods=1)["Y"][1] == pytest.approx(20)


def test_an_unclosed_bracket_is_named(write_model):
    with pytest.raises(ParseError, match=r"line 13, column 1: a bracket opened here is never closed"):
        load(write_model("Y = (C + G\nC = 0.5*Y", exogenous="G = 10"))
