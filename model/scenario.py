"""Scenario files: a base model plus changes, run on the baseline's own time axis and compared with it.

A scenario changes parameters (from period 1, or from a later period) and shocks exogenous series,
on top of the baseline -- by default the model's standard experiment. Baseline and scenario are solved
from the same starting state with the same inputs up to the first change, so they share their history
exactly (not approximately, and not from the baseline's last row as in sfcr).

    [scenario]
    name = "Fiscal expansion"
    model = "sim"                       # optional: a shipped name or a path relative to this file
    periods = 60                        # optional: default, the model's experiment length
    experiment = true                   # keep the model's own experiment in the baseline (default)

    [parameters]
    alpha1 = 0.7                        # from period 1
    theta = { value = 0.25, start = 10 }

    [[shocks]]
    variable = "Gd"
    start = 10                          # or a date, "2025Q3", when the model has a calendar
    add = 5                             # or value = 25; kind = "pulse" | "ramp" | "path" ...
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ModelError, ModelFileError, UnknownNameError
from .model import Model, load
from .modelfile import key_lines
from .shipped import resolve_scenario
from .shocks import ParameterChange, Shock, number, parse_shock
from .spec import check_shock, suggest

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Scenario:
    """What a scenario file says, checked against its model."""

    name: str
    path: str
    description: str = ""
    model: str | None = None
    periods: int | None = None
    experiment: bool = True
    changes: list[ParameterChange] = field(default_factory=list)
    shocks: list[Shock] = field(default_factory=list)

    @property
    def first_period(self) -> int | None:
        """The first period in which the scenario differs from the baseline's inputs."""
        starts = [c.start for c in self.changes] + [s.start for s in self.shocks]
        return min(starts) if starts else None


def read_scenario(path: str | Path, model: Model | None = None) -> tuple[Scenario, Model]:
    """Read and check a scenario file; returns it with its model (``model``, or the one it names)."""
    path = resolve_scenario(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read the scenario file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"scenario", "parameters", "shocks"}
    if unknown:
        raise ModelFileError(
            f"{path}: unknown table(s) {', '.join(sorted(unknown))}; use [scenario], [parameters], [[shocks]]"
        )
    header = data.get("scenario", {})
    lines = key_lines(path)
    if model is None:
        if "model" not in header:
            raise ModelFileError(
                f'{path}: the scenario names no model: add model = "sim" under [scenario], or give one'
            )
        named = str(header["model"])
        local = path.parent / named
        model = load(local if local.suffix == ".toml" and local.is_file() else named)
    scenario = Scenario(
        name=str(header.get("name", path.stem)),
        path=str(path),
        description=str(header.get("description", "")),
        model=header.get("model"),
        experiment=bool(header.get("experiment", True)),
    )
    periods = header.get("periods")
    if periods is not None and (isinstance(periods, bool) or not isinstance(periods, int) or periods < 1):
        line = lines.get(("scenario", "periods"), 0)
        raise ModelFileError(f"{path}, line {line}: periods must be a whole number >= 1, got {periods!r}")
    scenario.periods = periods
    to_period = model.spec.calendar.period if model.spec.calendar else None
    for name, value in data.get("parameters", {}).items():
        where = f"{path}, line {lines.get(('parameters', name), 0)}"
        scenario.changes.append(_parameter_change(model, name, value, where, to_period))
    shock_lines = [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[shocks\]\]", line)]
    shocks = data.get("shocks", [])
    if not isinstance(shocks, list):
        raise ModelFileError(f"{path}: shocks are written as [[shocks]] tables, one per shock")
    horizon = scenario.periods or model.spec.experiment.periods
    for i, table in enumerate(shocks):
        where = f"{path}, line {shock_lines[i] if i < len(shock_lines) else 0}: shock {i + 1}"
        shock = parse_shock(table, where, to_period)
        check_shock(model.spec, shock, where)
        last = shock.start + len(shock.path) - 1 if shock.kind == "path" else shock.last_period()
        if shock.start > horizon or (last is not None and last > horizon):
            raise ModelFileError(
                f"{where}: the shock reaches period {max(shock.start, last or 0)}, after the run's last period "
                f"{horizon}; shorten it or set [scenario] periods"
            )
        scenario.shocks.append(shock)
    return scenario, model


def _parameter_change(model: Model, name: str, value, where: str, to_period) -> ParameterChange:
    kind = model.spec.kind_of(name)
    if kind != "parameter":
        if kind is None:
            raise UnknownNameError(
                f"{where}: {name!r} is not a parameter of model {model.name}.{suggest(name, model.parameters)}"
            )
        hint = "shock it under [[shocks]]" if kind == "exogenous" else "it is computed by an equation"
        raise ModelFileError(f"{where}: {name} is {kind}, not a parameter: {hint}")
    if isinstance(value, dict):
        unknown = set(value) - {"value", "start"}
        if unknown or "value" not in value:
            raise ModelFileError(f"{where}: write {name} = number, or {name} = {{ value = number, start = period }}")
        start = value.get("start", 1)
        if isinstance(start, str):
            if to_period is None:
                raise ModelFileError(f"{where}: {start!r} is a date, but the model has no calendar")
            start = to_period(start, where)
        if isinstance(start, bool) or not isinstance(start, int) or start < 1:
            raise ModelFileError(f"{where}: start must be a period number >= 1, got {start!r}")
        return ParameterChange(name, number(value["value"], f"{where}: {name}"), start)
    return ParameterChange(name, number(value, f"{where}: {name}"))


def run_scenario(model: Model, scenario: Scenario, **solver) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(baseline, scenario) results over the same periods."""
    periods = scenario.periods or model.spec.experiment.periods
    base_shocks = list(model.spec.experiment.shocks) if scenario.experiment else []
    baseline = model.run(periods=periods, shocks=base_shocks, **solver)
    changed = model.run(
        periods=periods,
        shocks=base_shocks + scenario.shocks,
        changes=scenario.changes,
        origin=f"scenario {scenario.path}: ",
        **solver,
    )
    return baseline, changed


def compare(baseline: pd.DataFrame, scenario: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Columns (variable, baseline | scenario | difference | percent) per period."""
    import pandas as pd  # here: reading a scenario (drypowder run --scenario) needs no pandas until results

    missing = [name for name in variables if name not in baseline.columns]
    if missing:
        raise ModelError(f"not variables of the model: {', '.join(missing)}")
    parts = {}
    for name in variables:
        base, new = baseline[name], scenario[name]
        difference = new - base
        with np.errstate(all="ignore"):
            percent = (100 * difference / base.abs()).where(base != 0)
        parts[name] = pd.DataFrame({"baseline": base, "scenario": new, "difference": difference, "percent": percent})
    return pd.concat(parts, axis=1)
