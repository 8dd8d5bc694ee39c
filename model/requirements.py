"""Conditions a model's inputs must meet before it is solved: ``[[requires]]`` in the model file.

    [[requires]]
    condition = "capex >= 0"
    message = "AI capex cannot be negative: check the capex path of your scenario"

A condition may use parameters, exogenous variables (checked in every period of the run) and
endogenous variables (their starting values). A violation is a ``RequirementError`` (exit code 2) that
names the condition, where it is declared, the period, the values, and the scenario or call that set
them -- so a bad scenario value is caught as bad input, not as a solver failure three blocks later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelFileError, RequirementError, UnknownNameError
from .parse import (
    Where,
    parse_condition,
    split_symbol,
    sympy,  # imported on first use (parse._Deferred): a cached run never parses
)


@dataclass(frozen=True)
class Requirement:
    condition: sympy.Basic
    text: str
    message: str
    where: Where


def read_requirements(data: dict, path: Path) -> list[Requirement]:
    """The ``[[requires]]`` tables of one model file."""
    tables = data.get("requires", [])
    if not isinstance(tables, list):
        raise ModelFileError(f'{path}: write each requirement as a [[requires]] table with condition = "..."')
    lines = [
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip() == "[[requires]]"
    ]
    out = []
    for i, table in enumerate(tables):
        where = Where(str(path), lines[i] if i < len(lines) else 0)
        if not isinstance(table, dict) or not isinstance(table.get("condition"), str):
            raise ModelFileError(f'{where}: a requirement needs condition = "..." (e.g. "capex >= 0")')
        unknown = set(table) - {"condition", "message"}
        if unknown:
            raise ModelFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use condition, message")
        condition = parse_condition(table["condition"], where)
        for symbol in condition.free_symbols:
            if split_symbol(symbol)[1]:
                raise ModelFileError(f"{where}: a requirement cannot use lags ({symbol})")
        out.append(Requirement(condition, table["condition"].strip(), str(table.get("message", "")), where))
    return out


def check_names(requirements: list[Requirement], known, suggest) -> None:
    for requirement in requirements:
        for symbol in requirement.condition.free_symbols:
            if symbol.name not in known:
                raise UnknownNameError(
                    f"{requirement.where}: requirement {requirement.text!r} uses an unknown name {symbol.name!r}."
                    f"{suggest(symbol.name, known)}"
                )


class InputChecks:
    """A model's requirements compiled for its runs, without sympy once built.

    Every condition becomes one numpy function over the inputs the conditions read (by name, sorted),
    printed once by sympy and stored, like the accounting's cells, in the compiled-model cache: a
    cached model then checks its inputs without parsing its model file (that parse cost DRYPOWDER's
    second start 2 s of 3.5). Besides the function it keeps what a failure reports: each condition's
    text, message, place in the file, and the inputs it reads.
    """

    def __init__(self, requirements: list[Requirement]):
        symbols = sorted({s for r in requirements for s in r.condition.free_symbols}, key=lambda s: s.name)
        self.names = [symbol.name for symbol in symbols]
        position = {name: i for i, name in enumerate(self.names)}
        self.reads = [sorted(position[s.name] for s in r.condition.free_symbols) for r in requirements]
        self.texts = [r.text for r in requirements]
        self.messages = [r.message for r in requirements]
        self.places = [str(r.where) for r in requirements]
        conditions = tuple(r.condition for r in requirements)
        # no dummify: the names are the parser's plain identifiers (no lags here), and dummifying DRYPOWDER's
        # 25 conditions took 1 s of its cold load, against 0.05 s
        self._function = sympy.lambdify(symbols, conditions, modules="numpy")


def check_inputs(model, params: np.ndarray, exogenous: np.ndarray, initial: np.ndarray, origin: str = "") -> None:
    """Raise ``RequirementError`` at the first period (and batch member) where a requirement fails.

    Each condition is evaluated on its inputs' own shapes (a parameter: one value per member), which
    numpy broadcasts; only a failure is spread over periods to find where (DRYPOWDER's 25 conditions
    read 143 inputs a run, and broadcasting each of them first cost its 47-quarter run 4 ms of 5).
    """
    checks = model.input_checks
    if checks is None:
        return
    parameter_index = {name: i for i, name in enumerate(model.compiled.parameters)}
    exogenous_index = {name: i for i, name in enumerate(model.exogenous)}
    endogenous_index = {name: i for i, name in enumerate(model.spec.endogenous)}
    shape = (exogenous.shape[0], exogenous.shape[2])  # (period, member)
    arguments = []
    for name in checks.names:
        if name in parameter_index:
            index = parameter_index[name]
            arguments.append(params[:, index] if params.ndim == 3 else params[index])  # over time, or fixed
        elif name in exogenous_index:
            arguments.append(exogenous[:, exogenous_index[name]])
        else:
            arguments.append(initial[endogenous_index[name]])
    with np.errstate(all="ignore"):
        results = checks._function(*arguments)
    for i, result in enumerate(results):
        holds = np.asarray(result, dtype=bool)
        if holds.all():
            continue
        holds = np.broadcast_to(holds, shape)
        period, member = (int(v) for v in np.argwhere(~holds)[0])
        shown = ", ".join(
            f"{checks.names[j]} = {float(np.broadcast_to(arguments[j], shape)[period, member]):.10g}"
            for j in checks.reads[i]
        )
        batch = f" (batch member {member})" if exogenous.shape[2] > 1 else ""
        advice = f" {checks.messages[i]}" if checks.messages[i] else ""
        raise RequirementError(
            f"{origin}the inputs break the requirement {checks.texts[i]!r} ({checks.places[i]}) in period "
            f"{period}{batch}: {shown}.{advice}"
        )
