"""Dates for models with a calendar: period 0 is the start date, then one period per step.

Declared in the model file as ``[model] calendar = { start = "2019Q1", frequency = "quarterly" }``;
labels are those of pandas Periods ("2019Q1", "2019", "2019-01"), so scenarios can name dates, not
numbers.

A calendar is a frequency and a count of periods since year 0, not a ``pandas.Period``: importing
pandas costs 0.4-0.6 s, a sixth of the flagship's cold load and a quarter of a cached run's start, and
a date in its printed form ("2019Q1") needs none of it. pandas still reads any other way of writing a
date ("2019-Q1", "2019-05-17", "Q2 2019"), so every label pandas accepted is accepted the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ModelFileError

FREQUENCIES = {"annual": "Y", "quarterly": "Q", "monthly": "M"}  # pandas' frequency codes
_PER_YEAR = {"Y": 1, "Q": 4, "M": 12}
#: how pandas prints a Period of each frequency: year, then quarter or month (read back without pandas)
_PRINTED = {"Y": re.compile(r"(\d{4})"), "Q": re.compile(r"(\d{4})Q([1-4])"), "M": re.compile(r"(\d{4})-(\d\d)")}


@dataclass(frozen=True)
class Calendar:
    frequency: str  # "Y", "Q" or "M"
    start_index: int  # the start date as periods since year 0: year * periods a year + (quarter or month - 1)

    @classmethod
    def from_table(cls, table, where: str) -> Calendar:
        if not isinstance(table, dict) or set(table) != {"start", "frequency"}:
            raise ModelFileError(f'{where}: calendar must be {{ start = "2019Q1", frequency = "quarterly" }}')
        frequency = FREQUENCIES.get(table["frequency"])
        if frequency is None:
            raise ModelFileError(f"{where}: calendar frequency must be one of {', '.join(FREQUENCIES)}")
        start = _index(str(table["start"]), frequency)
        if start is None:
            raise ModelFileError(f"{where}: calendar start {table['start']!r} is not a date like 2019Q1")
        return cls(frequency, start)

    @property
    def start(self) -> str:
        """The start date's label, e.g. '2019Q1'."""
        return self.label(0)

    def label(self, period: int) -> str:
        """The date of a period number, e.g. 0 -> '2019Q1' (as pandas prints a Period)."""
        year, within = divmod(self.start_index + period, _PER_YEAR[self.frequency])
        if self.frequency == "Q":
            return f"{year}Q{within + 1}"
        if self.frequency == "M":
            return f"{year}-{within + 1:02d}"
        return str(year)

    def labels(self, periods: int) -> list[str]:
        return [self.label(t) for t in range(periods + 1)]

    def period(self, label: str, where: str = "") -> int:
        """The period number of a date label; period 0 (the start) cannot be shocked, so >= 1."""
        index = _index(label, self.frequency)
        if index is None:
            raise ModelFileError(f"{where}: {label!r} is not a date of this model's calendar (like {self.start})")
        number = index - self.start_index
        if number < 1:
            raise ModelFileError(
                f"{where}: {label} is not after the calendar's start {self.start} (period 0, the initial state)"
            )
        return number


def _index(label, frequency: str) -> int | None:
    """Periods since year 0 of the date ``label`` at ``frequency``, or None if it is not a date.

    A label as pandas prints it is read here; any other form is read by ``pandas.Period``, as before.
    """
    per_year = _PER_YEAR[frequency]
    match = _PRINTED[frequency].fullmatch(label) if isinstance(label, str) else None
    if match and (frequency != "M" or 1 <= int(match.group(2)) <= 12):
        within = int(match.group(2)) - 1 if frequency != "Y" else 0
        return int(match.group(1)) * per_year + within
    import pandas as pd  # only for a date written in another form

    try:
        date = pd.Period(label, freq=frequency)
    except (ValueError, TypeError):
        return None
    within = {"Y": 0, "Q": date.quarter - 1, "M": date.month - 1}[frequency]
    return date.year * per_year + within
