"""Changes to a run: shocks to exogenous series (step, pulse, ramp, path) and parameter changes.

A shock sets a level (``value``) or adds to whatever the path was before it (``add``), so that a
scenario can say "25 from period 5" or "5 more from period 5" on top of the model's own experiment.
Shocks apply in order: a later one sees the path the earlier ones left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import ModelFileError

KINDS = ("step", "pulse", "ramp", "path")


@dataclass(frozen=True)
class Shock:
    """A change to one exogenous variable from period ``start``.

    * step: ``value`` (or ``+add``) from ``start`` on, or until ``end`` if given;
    * pulse: the same, for ``start``..``end`` only (``end`` defaults to ``start``);
    * ramp: moves in equal steps from the previous level to ``value`` (or by ``add``), reached at
      ``end``, then stays there;
    * path: ``path[i]`` in period ``start + i``; after the path the series returns to what it was, or with
      ``hold`` keeps the path's last value (a historical path that a longer run extends flat).
    """

    variable: str
    start: int
    value: float | None = None
    end: int | None = None
    path: tuple[float, ...] | None = None
    add: float | None = None
    kind: str = "step"
    hold: bool = False

    def last_period(self) -> int | None:
        """The last period the shock itself sets (None: it lasts to the end of the run)."""
        if self.kind == "path":
            return None if self.hold else self.start + len(self.path) - 1
        if self.kind == "pulse":
            return self.end if self.end is not None else self.start
        return self.end if self.kind == "step" else None

    def apply(self, series: np.ndarray, periods: int) -> None:
        """Write the shock into ``series`` (indexed by period 0..periods) in place."""
        if self.start > periods:
            return
        if self.kind == "path":
            stop = min(self.start + len(self.path), periods + 1)
            series[self.start : stop] = self.path[: stop - self.start]
            if self.hold:
                series[stop:] = self.path[-1]
            return
        if self.kind == "ramp":
            before = series[self.start - 1].copy()
            span = self.end - self.start + 1
            for period in range(self.start, periods + 1):
                share = min(1.0, (period - self.start + 1) / span)
                if self.add is not None:
                    series[period] += share * self.add
                else:
                    series[period] = before + share * (self.value - before)
            return
        last = self.last_period()
        stop = periods if last is None else min(last, periods)
        if self.add is not None:
            series[self.start : stop + 1] += self.add
        else:
            series[self.start : stop + 1] = self.value


@dataclass(frozen=True)
class ParameterChange:
    """A parameter takes ``value`` from period ``start`` on (period 1: the whole run)."""

    name: str
    value: float
    start: int = 1


def number(value, where: str) -> float:
    """A finite number from a TOML value, or a ``ModelFileError`` saying where."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ModelFileError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def parse_shock(table, where: str, to_period=None) -> Shock:
    """A shock from a TOML table; ``to_period`` turns a date label such as "2025Q3" into a period."""
    if not isinstance(table, dict):
        raise ModelFileError(f'{where}: a shock is a table like {{ variable = "G", start = 5, value = 25 }}')
    unknown = set(table) - {"variable", "start", "end", "value", "add", "path", "kind", "hold"}
    if unknown:
        raise ModelFileError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a shock has variable, start, end, kind "
            f"({'/'.join(KINDS)}), and one of value, add, path (a path may also have hold = true)"
        )
    variable = table.get("variable")
    if not isinstance(variable, str):
        raise ModelFileError(f"{where}: 'variable' must name an exogenous variable")
    if "start" not in table:
        raise ModelFileError(f"{where}: 'start' (the first period of the shock) is missing")
    start = _period(table["start"], f"{where}: 'start'", to_period)
    end = _period(table["end"], f"{where}: 'end'", to_period) if "end" in table else None
    if end is not None and end < start:
        raise ModelFileError(f"{where}: 'end' ({end}) is before 'start' ({start})")
    kind = table.get("kind", "path" if "path" in table else "step")
    if kind not in KINDS:
        raise ModelFileError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    given = [key for key in ("value", "add", "path") if key in table]
    if kind == "path":
        if given != ["path"]:
            raise ModelFileError(f"{where}: a path shock takes 'path' (a list of values), and no 'value' or 'add'")
        path = table["path"]
        if not isinstance(path, list) or not path:
            raise ModelFileError(f"{where}: 'path' must be a non-empty list of numbers")
        if end is not None and end - start + 1 != len(path):
            raise ModelFileError(
                f"{where}: the path has {len(path)} values but start..end covers {end - start + 1} periods"
            )
        hold = table.get("hold", False)
        if not isinstance(hold, bool):
            raise ModelFileError(f"{where}: 'hold' must be true or false (keep the path's last value after it ends)")
        values = tuple(number(v, f"{where}: path value") for v in path)
        return Shock(variable, start, path=values, kind="path", hold=hold)
    if "hold" in table:
        raise ModelFileError(f"{where}: 'hold' belongs to a path shock; a {kind} shock keeps its value until 'end'")
    if len(given) != 1 or given[0] == "path":
        raise ModelFileError(f"{where}: give exactly one of 'value' (a level) or 'add' (a change) for a {kind} shock")
    if kind == "ramp" and end is None:
        raise ModelFileError(f"{where}: a ramp needs 'end', the period where it reaches its full size")
    amount = number(table[given[0]], f"{where}: '{given[0]}'")
    return Shock(
        variable,
        start,
        value=amount if given[0] == "value" else None,
        add=amount if given[0] == "add" else None,
        end=end,
        kind=kind,
    )


def _period(value, where: str, to_period) -> int:
    if isinstance(value, str):
        if to_period is None:
            raise ModelFileError(
                f"{where}: {value!r} is a date, but the model has no [model] calendar; use a period number"
            )
        return to_period(value, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFileError(f'{where} must be a period number >= 1 (or a date like "2025Q3"), got {value!r}')
    return value
