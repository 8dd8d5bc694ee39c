"""A calendar reads and prints dates as pandas Periods do, without importing pandas for the usual forms."""

import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drypowder.calendar import FREQUENCIES, Calendar
from drypowder.errors import ModelFileError


@settings(max_examples=300, deadline=None)
@given(
    frequency=st.sampled_from(sorted(FREQUENCIES)),
    year=st.integers(1000, 9000),
    within=st.integers(0, 11),
    period=st.integers(0, 400),
)
def test_labels_and_period_numbers_are_those_of_pandas_periods(frequency, year, within, period):
    code = FREQUENCIES[frequency]
    start = pd.Period(year=year, month=within + 1, freq="M").asfreq(code)  # a quarter or year holds the month
    calendar = Calendar.from_table({"start": str(start), "frequency": frequency}, "test")
    assert calendar.start == str(start)
    date = start + period
    assert calendar.label(period) == str(date)
    if period >= 1:
        assert calendar.period(str(date), "test") == period


@pytest.mark.parametrize(
    "frequency, start, label, period",
    [
        ("quarterly", "2019Q1", "2020-Q2", 5),  # forms pandas reads but does not print go to pandas
        ("quarterly", "2019-01-01", "2020-05-17", 5),
        ("quarterly", "2019", "2019q2", 1),
        ("monthly", "2019-01", "2019Q2", 3),
        ("annual", "2019", "2021-07", 2),
    ],
)
def test_other_ways_of_writing_a_date_are_read_by_pandas(frequency, start, label, period):
    calendar = Calendar.from_table({"start": start, "frequency": frequency}, "test")
    assert calendar.period(label, "test") == period
    assert (
        calendar.period(label, "test")
        == (pd.Period(label, freq=FREQUENCIES[frequency]) - pd.Period(start, freq=FREQUENCIES[frequency])).n
    )


def test_bad_dates_say_what_a_date_looks_like():
    calendar = Calendar.from_table({"start": "2019Q1", "frequency": "quarterly"}, "here")
    with pytest.raises(
        ModelFileError, match=r"^here: 'Q9 2020' is not a date of this model's calendar \(like 2019Q1\)$"
    ):
        calendar.period("Q9 2020", "here")
    with pytest.raises(ModelFileError, match=r"^here: 2019Q1 is not after the calendar's start 2019Q1 \(period 0"):
        calendar.period("2019Q1", "here")
    with pytest.raises(ModelFileError, match=r"^m: calendar start 'soon' is not a date like 2019Q1$"):
        Calendar.from_table({"start": "soon", "frequency": "quarterly"}, "m")
    with pytest.raises(ModelFileError, match=r"^m: calendar frequency must be one of annual, quarterly, monthly$"):
        Calendar.from_table({"start": "2019", "frequency": "weekly"}, "m")
    with pytest.raises(ModelFileError, match=r"^m: '2019-13' is not a date of this model's calendar"):
        Calendar.from_table({"start": "2019-01", "frequency": "monthly"}, "m").period("2019-13", "m")


def test_the_flagship_loads_and_labels_its_quarters_without_pandas():
    code = (
        "import sys, drypowder; m = drypowder.load('drypowder'); "
        "print(m.spec.calendar.label(24), m.spec.calendar.period('2026Q4', 'x'), 'pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["2025Q1", "31", "False"]
