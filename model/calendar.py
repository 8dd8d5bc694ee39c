"""Dates for models with a calendar: period 0 is the start date, then one period per step.

Declared in the model file as ``[model] calendar = { start = "2019Q1", frequency = "quarterly" }``;
labels are pandas Periods ("2019Q1", "2019", "2019-01"), so scenarios can name dates, not numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ModelFileError

if TYPE_CHECKING:
    import pandas as pd

FREQUENCIES = {"annual": "Y", "quarterly": "Q", "monthly": "M"}


@dataclass(frozen=True)
class Calendar:
    start: pd.Period

    @classmethod
    def from_table(cls, table, where: str) -> Calendar:
        if not isinstance(table, dict) or set(table) != {"start", "frequency"}:
            raise ModelFileError(f'{where}: calendar must be {{ start = "2019Q1", frequency = "quarterly" }}')
        frequency = FREQUENCIES.get(table["frequency"])
        if frequency is None:
            raise ModelFileError(f"{where}: calendar frequency must be one of {', '.join(FREQUENCIES)}")
        import pandas as pd  # here, not at the top: a run of a model without a calendar never needs pandas

        try:
            return cls(pd.Period(str(table["start"]), freq=frequency))
        except (ValueError, TypeError):
            raise ModelFileError(f"{where}: calendar start {table['start']!r} is not a date like 2019Q1") from None

    def label(self, period: int) -> str:
        """The date of a period number, e.g. 0 -> '2019Q1'."""
        return str(self.start + period)

    def labels(self, periods: int) -> list[str]:
        return [self.label(t) for t in range(periods + 1)]

    def period(self, label: str, where: str = "") -> int:
        """The period number of a date label; period 0 (the start) cannot be shocked, so >= 1."""
        import pandas as pd

        try:
            date = pd.Period(label, freq=self.start.freq)
        except (ValueError, TypeError):
            raise ModelFileError(
                f"{where}: {label!r} is not a date of this model's calendar (like {self.start})"
            ) from None
        number = (date - self.start).n
        if number < 1:
            raise ModelFileError(
                f"{where}: {label} is not after the calendar's start {self.start} (period 0, the initial state)"
            )
        return number
