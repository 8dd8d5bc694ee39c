"""Shared helpers: write a model file from equation text, run the CLI in-process."""

from __future__ import annotations

import textwrap

import pytest

from drypowder.cli import main


def model_text(equations: str, parameters: str = "", exogenous: str = "", initial: str = "", extra: str = "") -> str:
    """A minimal model file around ``equations``; the first equation line is line 13."""
    lines = [
        "[model]",
        'name = "TEST"',
        'description = "a test model"',
        textwrap.dedent(extra).strip(),
        "[parameters]",
        textwrap.dedent(parameters).strip(),
        "[exogenous]",
        textwrap.dedent(exogenous).strip(),
        "[initial]",
        textwrap.dedent(initial).strip(),
        "[equations]",
        'text = """',
        textwrap.dedent(equations).strip(),
        '"""',
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_model(tmp_path):
    """Write a model file and return its path; the first equation is on line 13."""

    def write(equations: str, name: str = "model.toml", **sections) -> str:
        path = tmp_path / name
        path.write_text(model_text(equations, **sections))
        return str(path)

    return write


@pytest.fixture
def cli(capsys):
    """Run ``drypowder ARGS`` in-process; return (exit code, stdout, stderr)."""

    def run(*args: str):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
