"""Model text is data, never code: hostile files get a ParseError and provably run nothing.

An audit hook records every event that would mean code ran (exec/eval of a code object, process
creation, system calls, imports of new modules) while a hostile file is loaded.
"""

from __future__ import annotations

import sys

import pytest

from drypowder import ParseError, load

_RECORDING: list | None = None
_WATCHED = ("exec", "os.system", "os.exec", "os.posix_spawn", "subprocess.Popen", "import", "open", "socket.")


def _audit(event: str, args) -> None:
    if _RECORDING is not None and event.startswith(_WATCHED):
        _RECORDING.append((event, repr(args)[:120]))


sys.addaudithook(_audit)

HOSTILE = {
    "import": "__import__('os').system('touch PWNED')",
    "dunder attribute": "().__class__.__bases__[0].__subclasses__()",
    "attribute": "os.system",
    "open": "open('/etc/passwd')",
    "eval": "eval('1')",
    "exec call": "exec('import os')",
    "lambda": "(lambda: 1)()",
    "comprehension": "[c for c in 'ab']",
    "generator": "sum(i for i in range(10**9))",
    "walrus": "(q := 1)",
    "string": "'x' * 10",
    "fstring": "f'{1}'",
    "subscript": "globals()['x']",
    "keyword": "log(x=1)",
    "starred": "max(*[1, 2])",
    "bytes": "b'abc'",
    "huge power chain": "9**9**9**9",
}


def _expect_rejection(path) -> str:
    """Load ``path`` expecting a ParseError; fail if anything but reading the file itself happened."""
    global _RECORDING
    _RECORDING = []
    try:
        with pytest.raises(ParseError) as error:
            load(path)
        events = list(_RECORDING)
    finally:
        _RECORDING = None
    ran = [event for event in events if not (event[0] == "open" and str(path) in event[1])]
    assert not ran, f"something ran while loading a hostile file: {ran}"
    return str(error.value)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_expressions_are_rejected_and_run_nothing(name, write_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_model(f"Y = {HOSTILE[name]}")
    message = _expect_rejection(path)
    assert message.startswith(f"{path}, line 13, column ")
    assert not (tmp_path / "PWNED").exists()


def test_a_huge_power_is_refused_not_computed(write_model):
    # sympy would compute 9**(9**9) exactly (370 million digits) and never return
    message = _expect_rejection(write_model("Y = 9**9**9**9 * X", exogenous="X = 1"))
    assert "the exponent 3.8742e+08 is too large (the limit is 1,000)" in message


def test_a_one_megabyte_expression_is_refused_before_parsing(write_model):
    path = write_model("Y = " + "+".join(["1"] * 500_000))
    message = _expect_rejection(path)
    assert "characters, more than the limit of 20,000" in message


def test_ten_thousand_nested_parentheses_are_refused(write_model):
    path = write_model("Y = " + "(" * 10_000 + "1" + ")" * 10_000)
    message = _expect_rejection(path)
    assert "line 13" in message


def test_a_deep_but_short_expression_is_refused_without_recursion_error(write_model):
    path = write_model("Y = " + "-" * 5_000 + "1")
    message = _expect_rejection(path)
    assert "too deeply nested" in message or "nested too deeply" in message


def test_a_hostile_name_in_a_value_table_is_refused(tmp_path):
    path = tmp_path / "model.toml"
    path.write_text('[model]\nname = "X"\n[parameters]\n__class__ = 1\n[equations]\ntext = """\nY = 1\n"""\n')
    with pytest.raises(ParseError, match=r"line 4.*'__class__' is not allowed"):
        load(path)


def test_variable_names_cannot_shadow_functions(write_model):
    with pytest.raises(ParseError, match=r"line 13, column 1: the variable 'exp' is the name of a function"):
        load(write_model("exp = 1"))
