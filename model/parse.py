"""Equation text to sympy expressions, through a whitelist: model text is data, never code.

The text is read by Python's own parser (``ast.parse`` in eval mode builds a tree and runs nothing),
and the tree is walked node by node; only numbers, names, arithmetic, lags ``X(-k)``, ``d(X)`` and a
short list of functions are turned into sympy objects. Anything else -- attribute access, strings,
subscripts, lambdas, comprehensions, keyword arguments, dunder names -- is a ``ParseError`` naming the
file, line and column. Sizes are bounded before parsing, so a hostile file cannot exhaust the stack.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from .errors import ParseError


class _Deferred:
    """sympy, imported on first use: it costs ~0.3 s, and a run from the compiled-model cache never parses."""

    def __getattr__(self, attribute: str):
        import sympy as module

        globals()["sympy"] = module  # from now on the module itself, with no indirection here
        value = getattr(module, attribute)
        setattr(self, attribute, value)  # and a plain attribute for modules that imported this object
        return value


sympy = _Deferred()

MAX_EQUATION_CHARS = 20_000
MAX_DEPTH = 100
MAX_NODES = 20_000
MAX_EXPONENT = 1_000

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_LAG_SYMBOL = re.compile(r"([A-Za-z][A-Za-z0-9_]*)\(-(\d+)\)\Z")
_EQUATION = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)\Z", re.S)

#: Functions an equation may call, with how many arguments each takes (None: two or more).
FUNCTIONS = {
    "exp": 1,
    "log": 1,
    "sqrt": 1,
    "abs": 1,
    "min": None,
    "max": None,
    "d": 1,
    "ifelse": 3,
    "smooth_if": 4,
}

_UNARY = {"exp": "exp", "log": "log", "sqrt": "sqrt", "abs": "Abs"}  # sympy's names
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_COMPARE = {
    ast.Lt: "StrictLessThan",
    ast.LtE: "LessThan",
    ast.Gt: "StrictGreaterThan",
    ast.GtE: "GreaterThan",
}
_FORBIDDEN = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[...])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.JoinedStr: "strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.IfExp: "Python's 'a if c else b' (use ifelse(c, a, b))",
    ast.Starred: "starred arguments",
    ast.Await: "await",
}


def current(name: str) -> sympy.Symbol:
    """The symbol for a variable's value in the period being solved."""
    return sympy.Symbol(name)


def lagged(name: str, lag: int) -> sympy.Symbol:
    """The symbol for ``name(-lag)``; it prints as the book (and pysolve) write it."""
    return sympy.Symbol(f"{name}(-{lag})")


def positional_symbols(symbols) -> dict:
    """Each symbol renamed a000000, a000001, ... in order: names that any printed code can use (a lag's
    "Hh(-1)" is no Python name) and that sort as the arguments do, since a printer orders a sum's terms
    by name and that order decides the rounding. Rename with ``xreplace``, all at once, so that a
    model's own name "a000001" cannot clash. Symbols, not Dummies: sympy keeps one per name, so what it
    learns about a000001 (is it zero? negative?) serves every function (fresh Dummies cost DRYPOWDER's
    cold compile 0.3 s)."""
    return {symbol: sympy.Symbol(f"a{i:06d}") for i, symbol in enumerate(symbols)}


def split_symbol(symbol: sympy.Symbol) -> tuple[str, int]:
    """``(name, lag)`` of a symbol made by ``current`` or ``lagged`` (lag 0 for the current period)."""
    match = _LAG_SYMBOL.match(symbol.name)
    if match:
        return match.group(1), int(match.group(2))
    return symbol.name, 0


@dataclass(frozen=True)
class Where:
    """Where a piece of model text comes from, for error messages."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, column {self.column}"


def check_name(name: str, where: Where, what: str = "name") -> None:
    """Reject names that are not plain identifiers or that shadow a function."""
    if not _NAME.match(name) or "__" in name:
        raise ParseError(
            f"{where}: {what} {name!r} is not allowed: names start with a letter and use letters, digits "
            "and single underscores"
        )
    if name in FUNCTIONS:
        raise ParseError(f"{where}: {what} {name!r} is the name of a function; rename the variable")


def split_equation(text: str, where: Where) -> tuple[str, str, int]:
    """Split ``NAME = expression`` into the name, the expression text and the expression's column."""
    match = _EQUATION.match(text)
    if not match:
        raise ParseError(
            f"{where}: expected 'NAME = expression', got {text.strip()[:80]!r}. Each equation defines one "
            "variable, e.g. 'Y = C + G'"
        )
    name = match.group(1)
    check_name(name, where, "the variable")
    return name, match.group(2), match.start(2) + 1


def parse_expression(text: str, where: Where) -> sympy.Expr:
    """Turn one right-hand side into a sympy expression, or raise ``ParseError`` saying where."""
    tree, walker = _read(text, where)
    expression = walker.visit(tree.body, 0)
    # sympy folds constants eagerly: log(-1) becomes I*pi, 1/0 complex infinity, 0/0 nan.
    if expression.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ParseError(
            f"{where}: the expression evaluates to {expression}, which is not a finite real number "
            "(a log or square root of a negative constant, or a division by zero)"
        )
    return expression


def parse_condition(text: str, where: Where) -> sympy.Basic:
    """A requirement's condition such as ``capex >= 0 and floor < L0``, through the same whitelist.

    Its comparisons of variables stay unevaluated. sympy's evaluation asks its assumptions system for
    the sign of ``left - right``: about 10 ms a comparison, 0.13 s of DRYPOWDER's cold compile. For
    our symbols, which carry no assumptions, it decides only tautologies such as ``abs(x) >= 0``, and
    numpy decides those the same way when the inputs are checked (inputs are finite). Comparisons of
    numbers alone are still decided here. An ``ifelse`` condition in an equation is evaluated as
    before, since the equation's derivative depends on its form.
    """
    tree, walker = _read(text, where)
    return walker._condition(tree.body, 0, evaluate=False)


def _read(text: str, where: Where) -> tuple[ast.Expression, _Walker]:
    """Python's parser builds the tree (it runs nothing); sizes are bounded first."""
    if len(text) > MAX_EQUATION_CHARS:
        raise ParseError(
            f"{where}: the expression has {len(text):,} characters, more than the limit of "
            f"{MAX_EQUATION_CHARS:,}; split it into several equations"
        )
    if not text.strip():
        raise ParseError(f"{where}: the right-hand side is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        leading = len(text) - len(text.lstrip())
        if exc.offset:
            column, reason = where.column + leading + exc.offset - 1, exc.msg
        else:  # Python reports offset 0 when the text ends in the middle of an expression
            column, reason = where.column + leading + len(text.strip()), "the expression ends unexpectedly"
        raise ParseError(
            f"{Where(where.file, where.line, column)}: syntax error: {reason}. Check the brackets and "
            "operators around that column"
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError(f"{where}: the expression is nested too deeply to read; simplify it") from None
    return tree, _Walker(where, leading=len(text) - len(text.lstrip()))


class _Walker:
    """Walks the whitelisted node types into sympy, counting depth and size."""

    def __init__(self, where: Where, leading: int):
        self.where = where
        self.leading = leading
        self.nodes = 0

    def fail(self, node: ast.AST, message: str) -> ParseError:
        column = self.where.column + self.leading + getattr(node, "col_offset", 0)
        return ParseError(f"{Where(self.where.file, self.where.line, column)}: {message}")

    def visit(self, node: ast.AST, depth: int) -> sympy.Expr:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            raise self.fail(node, "the expression is too deeply nested or too large; split it into several equations")
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            check_name(node.id, self._here(node))
            return current(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self._power(node, depth)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.visit(node.left, depth + 1), self.visit(node.right, depth + 1))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.visit(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            raise self.fail(node, "a comparison can only be the first argument of ifelse(condition, a, b)")
        raise self.fail(node, f"{self._describe(node)} is not allowed in an equation")

    def _here(self, node: ast.AST) -> Where:
        return Where(self.where.file, self.where.line, self.where.column + self.leading + node.col_offset)

    def _describe(self, node: ast.AST) -> str:
        if isinstance(node, ast.BinOp):
            return f"the operator {type(node.op).__name__}"
        if isinstance(node, ast.UnaryOp):
            return f"the unary operator {type(node.op).__name__}"
        return _FORBIDDEN.get(type(node), type(node).__name__)

    def _constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, f"the constant {value!r} is not allowed: only numbers are")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(node, f"the number {value!r} is not finite")
        return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)

    def _power(self, node: ast.BinOp, depth: int) -> sympy.Expr:
        """``a ** b``, guarded: sympy would compute 9**9**9 exactly, digit by digit, and never return."""
        base, exponent = self.visit(node.left, depth + 1), self.visit(node.right, depth + 1)
        if exponent.is_Number and abs(float(exponent)) > MAX_EXPONENT:
            raise self.fail(node, f"the exponent {float(exponent):g} is too large (the limit is {MAX_EXPONENT:,})")
        if base.is_Number and exponent.is_Number:
            try:
                value = float(base) ** float(exponent)
            except (OverflowError, ZeroDivisionError):
                value = math.inf
            if isinstance(value, complex) or not math.isfinite(value):
                raise self.fail(node, "this power of two numbers is not a finite real number")
            return sympy.Float(value)
        return base**exponent

    def _call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, f"{self._describe(node.func)} cannot be called; only named functions can")
        name = node.func.id
        if node.keywords:
            raise self.fail(node, f"keyword arguments are not allowed (in the call to {name})")
        args = node.args
        if any(isinstance(arg, ast.Starred) for arg in args):
            raise self.fail(node, "starred arguments are not allowed")
        if name not in FUNCTIONS:
            return self._lag(node, name)
        expected = FUNCTIONS[name]
        if (expected is None and len(args) < 2) or (expected is not None and len(args) != expected):
            count = "two or more" if expected is None else str(expected)
            raise self.fail(node, f"{name}() takes {count} argument(s), got {len(args)}")
        if name == "d":
            if not isinstance(args[0], ast.Name):
                raise self.fail(node, "d() takes a variable name, e.g. d(Hh) for Hh - Hh(-1)")
            check_name(args[0].id, self._here(args[0]))
            return current(args[0].id) - lagged(args[0].id, 1)
        if name == "ifelse":
            return sympy.Piecewise(
                (self.visit(args[1], depth + 1), self._condition(args[0], depth + 1)),
                (self.visit(args[2], depth + 1), True),
            )
        values = [self.visit(arg, depth + 1) for arg in args]
        if name in _UNARY:
            return getattr(sympy, _UNARY[name])(values[0])
        if name == "min":
            return sympy.Min(*values)
        if name == "max":
            return sympy.Max(*values)
        # smooth_if(x, a, b, width): a where x >> width, b where x << -width, a smooth blend between,
        # so that Newton sees a continuous derivative through a regime change.
        x, high, low, width = values
        return low + (high - low) * (1 + sympy.tanh(x / width)) / 2

    def _lag(self, node: ast.Call, name: str) -> sympy.Expr:
        check_name(name, self._here(node))
        arg = node.args[0] if len(node.args) == 1 else None
        if (
            isinstance(arg, ast.UnaryOp)
            and isinstance(arg.op, ast.USub)
            and isinstance(arg.operand, ast.Constant)
            and type(arg.operand.value) is int
            and arg.operand.value >= 1
        ):
            return lagged(name, arg.operand.value)
        known = ", ".join(sorted(FUNCTIONS))
        raise self.fail(
            node,
            f"{name}(...) is neither a lag nor a known function. Write a lag as {name}(-1) (any whole k >= 1 "
            f"in {name}(-k)); the functions are {known}",
        )

    def _condition(self, node: ast.AST, depth: int, evaluate: bool = True) -> sympy.Basic:
        if isinstance(node, ast.BoolOp):
            parts = [self._condition(value, depth + 1, evaluate) for value in node.values]
            return sympy.And(*parts) if isinstance(node.op, ast.And) else sympy.Or(*parts)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            left = self.visit(node.left, depth + 1)
            right = self.visit(node.comparators[0], depth + 1)
            relation = getattr(sympy, _COMPARE[type(node.ops[0])])
            if evaluate or not (left.free_symbols or right.free_symbols):
                return relation(left, right)
            return relation(left, right, evaluate=False)
        raise self.fail(
            node,
            "the condition of ifelse must be one comparison with <, <=, > or >= (combine several with "
            "'and'/'or'); == is not allowed on real numbers",
        )
