"""The historical paths of DRYPOWDER's baseline, built from the facts (``data/facts_used.csv``).

Every path has one value a quarter for periods 1..31 (2019Q2..2026Q4); period 0 is 2019Q1 and stands for
the end-2018 stocks, period t for the end of quarter t. Stocks are end of quarter, flows a quarter, USD bn;
rates are annual decimals. Between the quarters the facts pin, paths are linear, and flat after the last.

Numbers come from three places, and the code says which:

* a fact: read from the CSV by ``Facts`` (series and date), never typed in here;
* an assumption: a named constant below, with a comment saying what it stands for;
* ``AS_SHIPPED``: the few places where the shipped ``[experiment]`` of ``equations/drypowder/drypowder.toml``
  used a rounded or hand-typed number instead of the fact. ``build(as_shipped=True)`` applies them, so the
  shipped file can be rebuilt to its last digit; ``build()`` uses the facts as they are.

The paths ``TR``, ``lock`` and ``MBScb`` are then backed out on the model (``calibration.backout``); this
module gives their targets (the quarterly deficit, GDP and the Fed's total assets) and first guesses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from . import FACT_FILES, facts

QUARTERS = [f"{year}Q{q}" for year in range(2019, 2027) for q in range(1, 5)]  # period 0 (2019Q1) .. 31 (2026Q4)
PERIODS = len(QUARTERS) - 1  # 31: the experiment's periods
# the order of the shocks in the experiment table
ORDER = ["rpol", "s_rrp", "BLcb", "Bcb", "MBScb", "TGA", "BLnet", "G", "TR", "Ip", "lock", "Iguide", "Ilab"]
BACKED_OUT = ("TR", "lock", "MBScb")
# decimals the experiment table keeps (the back-out of lock is written to 8 decimals, everything else to 6)
DECIMALS = {name: (8 if name == "lock" else 6) for name in ORDER}

# ------------------------------------------------------------------------------------------------------------
# Assumptions (judgements where the facts are silent). Percent where the facts are in percent.
# ------------------------------------------------------------------------------------------------------------
# policy rate: the EFFR at the ends of 2019Q2 and 2019Q3 (FRED EFFR on 2019-06-28 and 2019-09-30; not in
# facts.csv, and in 2019 the EFFR sat higher in its range than the rule below gives)
EFFR_2019 = {"2019Q2": 2.38, "2019Q3": 1.90}
# policy rate 2020Q1-2024Q4: the bottom of the target range in force at the quarter's end plus the EFFR's
# place in the range, derived from the year-end facts (see effr_over_floor); the range is 25bp wide
RANGE_WIDTH = 0.25
RULE_QUARTERS = ("2020Q1", "2024Q4")  # first and last quarter set by the rule; facts from 2025Q1 on
# RRP rate below the policy rate (percent points): end-2018 to 2019Q3 the RRP rate at the bottom of the
# range (2.25 vs fed_funds_effective@2018-12-31 2.40), 2019Q4 10bp; facts.csv has no RRP rate before 2025
S_RRP_2019 = {"2019Q1": 0.15, "2019Q3": 0.15, "2019Q4": 0.10}
# the FOMC's technical adjustment: the RRP rate 5bp above the bottom of the range from June 2021 (2021Q2)
# to December 2024 (FOMC implementation notes)
RRP_TECH_ADJ = 0.05
S_RRP_ADJ_QUARTERS = ("2021Q1", "2021Q2", "2024Q3", "2024Q4")  # last at floor, first adjusted, last adjusted, back
# Fed bills: none at end-2018 and to 2019Q3 (bill purchases began in October 2019), ~170bn at end-2019
FED_BILLS_2019Q4 = 170.0
# the SOMA's Treasuries in 2026Q4 (after the RMPs slow down from mid-April 2026)
SOMA_2026Q4 = 4560.0
# the Fed's MBS and other assets in 2026Q4 (MBS runoff)
MBS_2026Q4 = 2170.0
# the premiums over face value the model's Fed pays for its Treasuries (H.4.1 unamortized premiums; not in
# facts.csv): subtracted from the first guess of MBScb only -- the back-out then sets MBScb
PREMIUMS = {
    "2019Q1": 120.0,
    "2019Q4": 130.0,
    "2020Q4": 320.0,
    "2021Q4": 350.0,
    "2022Q4": 330.0,
    "2023Q4": 290.0,
    "2024Q4": 260.0,
    "2025Q4": 240.0,
    "2026Q4": 230.0,
}
# the TGA's 2020 peak (treasury_general_account_peak_2020, 2020-07-29) is put at the end of 2020Q2
TGA_PEAK_QUARTER = "2020Q2"
# net coupon issuance (USD bn a fiscal year) FY2019-FY2021: not in facts.csv; roughly the deficit
# (federal_surplus_or_deficit) plus the change of the TGA less the change of bills implied by
# treasury_bills_share_2015_2020 and treasury_marketable_bills_outstanding@2020
COUPONS_FY = {2019: 900.0, 2020: 1900.0, 2021: 2500.0}
# how FY2020 and FY2021 coupon issuance is spread over the fiscal year's quarters (Oct-Dec, Jan-Mar,
# Apr-Jun, Jul-Sep): as the pandemic borrowing came; other years evenly
COUPON_PROFILE = {2020: (0.13, 0.16, 0.29, 0.42), 2021: (0.28, 0.26, 0.24, 0.22)}
# quarterly GDP (USD bn a quarter) 2019-2023: facts.csv has annual averages only (gdp_nominal); this is the
# quarterly profile (BEA quarterly SAAR / 4, an earlier vintage). build() scales each year to gdp_nominal;
# the shipped file used it unscaled (AS_SHIPPED)
GDP_PROFILE = {
    "2019Q1": 5300.0,
    "2019Q2": 5370.0,
    "2019Q3": 5420.0,
    "2019Q4": 5455.0,
    "2020Q1": 5390.0,
    "2020Q2": 4870.0,
    "2020Q3": 5380.0,
    "2020Q4": 5535.0,
    "2021Q1": 5730.0,
    "2021Q2": 5860.0,
    "2021Q3": 5975.0,
    "2021Q4": 6161.0,
    "2022Q1": 6280.0,
    "2022Q2": 6450.0,
    "2022Q3": 6580.0,
    "2022Q4": 6748.0,
    "2023Q1": 6860.0,
    "2023Q2": 6930.0,
    "2023Q3": 7010.0,
    "2023Q4": 7012.0,
}
# GDP 2025Q4-2026Q4 (USD bn a quarter): beyond the facts, about +4.3% a year
GDP_AFTER_FACTS = {"2025Q4": 7850.0, "2026Q1": 7935.0, "2026Q2": 8020.0, "2026Q3": 8105.0, "2026Q4": 8190.0}
# government purchases and other autonomous demand (private investment other than AI, state and local,
# net exports) as shares of GDP (BEA NIPA), the latter 14% and 5% lower in 2020Q2-Q3 (the pandemic)
G_SHARE = 0.174
IP_SHARE = 0.158
IP_PANDEMIC = {"2020Q2": 0.86, "2020Q3": 0.95}
# the federal deficit in FY2026 (USD bn; the fiscal year had not ended)
DEFICIT_FY2026 = 1800.0
# how the FY2020 and FY2021 deficits are spread over the fiscal year's quarters (as in the Monthly
# Treasury Statement); other years evenly
DEFICIT_PROFILE = {2020: (0.11, 0.12, 0.64, 0.13), 2021: (0.21, 0.42, 0.20, 0.17)}
# big-four capex (USD bn a year) where facts.csv lacks a firm: 2019 the three firms other than Meta,
# Meta in 2020, Alphabet in 2021
CAPEX_2019_OTHER_THREE = 60.0
CAPEX_META_2020 = 16.0
CAPEX_ALPHABET_2021 = 25.0
# hyperscaler capex grows 6% from mid-2026 to 2026Q4
IGUIDE_GROWTH_H2_2026 = 1.06
# AI labs' capex: none to 2024Q4; like Iguide, a year's flow sits at mid-year: SoftBank's 2025 funding at
# 2025Q2, the 2025-2028 average of dc_pe_sovereign_ms (over 16 quarters) from 2026Q2
ILAB_LAST_ZERO = "2024Q4"
ILAB_QUARTERS = 16

# ------------------------------------------------------------------------------------------------------------
# Where the shipped experiment used a rounded or hand-typed number instead of the fact (build(as_shipped=True))
# ------------------------------------------------------------------------------------------------------------
AS_SHIPPED = {
    # federal_surplus_or_deficit@2019-09-30 is -983.6; the shipped TR back-out (and theta_h) used 984
    "deficit_fy2019": 984.0,
    # capex_meta_ppe_purchases@2022 is 31.43; the shipped Iguide used 31.4
    "capex_meta_2022": 31.4,
    # the midpoint of capex_big4_total_guidance@2026 (725) and capex_big4_total_guidance_feb2026_low (630)
    # is 677.5; the shipped Iguide used 680
    "capex_big4_2026": 680.0,
    # fed_soma_bills_weekavg is in USD mn (195343, 224068); the shipped Bcb used them rounded to 0.1bn
    "fed_bills_decimals": 1,
    # the shipped GDP path used GDP_PROFILE as typed; its years add up to gdp_nominal only roughly
    # (2020: 21175 against 21375.3)
    "gdp_profile_unscaled": True,
}


# ------------------------------------------------------------------------------------------------------------
# Facts and dates
# ------------------------------------------------------------------------------------------------------------
class Facts:
    """The facts, looked up by series and date (a row of the CSV)."""

    def __init__(self, files=FACT_FILES):
        self.frame = facts(files)

    def series(self, series: str) -> pd.Series:
        """All rows of ``series``: value by date (as written in the CSV), in date order."""
        rows = self.frame[self.frame["series"] == series]
        if rows.empty:
            raise KeyError(f"no fact {series!r} in {', '.join(f.name for f in FACT_FILES)}")
        return rows.set_index("date")["value"].astype(float).sort_index()

    def value(self, series: str, when: str) -> float:
        """The value of ``series@when``."""
        values = self.series(series)
        if when not in values.index:
            raise KeyError(f"no fact {series}@{when}; the facts have {', '.join(values.index)}")
        return float(values[when])

    def latest(self, series: str, on_or_before: str) -> float:
        """The last value of ``series`` dated on or before the day ``on_or_before``."""
        values = self.series(series)
        return float(values[values.index <= on_or_before].iloc[-1])


def period_of(when: str) -> int:
    """The period a dated fact stands for: its quarter (YYYY-MM-DD or YYYYQn); end-2018 is period 0."""
    if "Q" in when:
        year, quarter = int(when[:4]), int(when[-1])
    else:
        year, quarter = int(when[:4]), (int(when[5:7]) - 1) // 3 + 1
    return max(0, (year - 2019) * 4 + quarter - 1)


def quarter_end(quarter: str) -> str:
    """The last day of ``quarter`` (YYYY-MM-DD)."""
    year, q = int(quarter[:4]), int(quarter[-1])
    return {1: f"{year}-03-31", 2: f"{year}-06-30", 3: f"{year}-09-30", 4: f"{year}-12-31"}[q]


def fiscal_year(quarter: str) -> int:
    """The US federal fiscal year (October-September) a calendar quarter belongs to."""
    return int(quarter[:4]) + (1 if quarter.endswith("Q4") else 0)


def fiscal_quarter(quarter: str) -> int:
    """0..3: the quarter's place in its fiscal year (Oct-Dec is 0)."""
    return int(quarter[-1]) % 4


def interpolate(knots: dict[int, float]) -> np.ndarray:
    """Periods 1..31 from (period, value) knots: linear between knots, flat after the last."""
    at = sorted(knots)
    return np.interp(np.arange(1, PERIODS + 1), at, [knots[p] for p in at])


def by_period(values: dict[str, float]) -> dict[int, float]:
    return {period_of(k): v for k, v in values.items()}


# ------------------------------------------------------------------------------------------------------------
# The paths
# ------------------------------------------------------------------------------------------------------------
@dataclass
class Baseline:
    """The baseline's paths (periods 1..31) and the back-outs' targets."""

    paths: dict[str, np.ndarray]
    deficit: np.ndarray  # the quarterly federal deficit TR is backed out to hit
    gdp: np.ndarray  # quarterly GDP lock is backed out to hit
    fed_assets: np.ndarray  # the Fed's total assets MBScb is backed out to hit
    notes: dict[str, str] = field(default_factory=dict)


def upper_limit(facts: Facts, day: str) -> float:
    """The upper limit of the fed funds target range in force on ``day``."""
    return facts.latest("fed_funds_target_change", day)


def effr_over_floor(facts: Facts) -> float:
    """The EFFR above the bottom of its target range: the median over the year-end facts 2020-2024 (0.08)."""
    gaps = []
    for year in range(2020, 2025):
        day = f"{year}-12-31"
        gaps.append(facts.latest("fed_funds_effective", day) - (upper_limit(facts, day) - RANGE_WIDTH))
    return round(float(np.median(gaps)), 2)


def policy_rate(facts: Facts) -> np.ndarray:
    """rpol: the EFFR at the end of each quarter (percent -> decimal)."""
    over = effr_over_floor(facts)
    first, last = (QUARTERS.index(q) for q in RULE_QUARTERS)
    out = []
    for period in range(1, PERIODS + 1):
        quarter, day = QUARTERS[period], quarter_end(QUARTERS[period])
        if quarter in EFFR_2019:
            rate = EFFR_2019[quarter]
        elif first <= period <= last:
            rate = upper_limit(facts, day) - RANGE_WIDTH + over
        else:  # 2019Q4 and from 2025Q1: the fact, the latest on or before the quarter's end
            rate = facts.latest("fed_funds_effective", day)
        out.append(rate / 100)
    return np.array(out)


def rrp_spread(facts: Facts) -> np.ndarray:
    """s_rrp: the policy rate less the RRP award rate (percent points -> decimal)."""
    over = effr_over_floor(facts)
    award = facts.series("fed_rrp_rate_award")
    day = award.index[-1]
    latest = facts.latest("fed_funds_effective", day) - award.iloc[-1]  # 4.33 - 4.25: the RRP rate at the floor
    at_floor, adjusted, adjusted_last, back = S_RRP_ADJ_QUARTERS
    knots = dict(S_RRP_2019)
    knots.update({"2020Q1": over, at_floor: over, adjusted: over - RRP_TECH_ADJ, adjusted_last: over - RRP_TECH_ADJ})
    knots.update({back: round(latest, 2), QUARTERS[-1]: round(latest, 2)})
    return interpolate(by_period(knots)) / 100


def fed_treasuries(facts: Facts, shipped: frozenset[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(SOMA Treasuries, bills Bcb, notes and bonds BLcb): the SOMA split into RMP bills and QE/QT bonds."""
    soma = facts.series("fed_soma_treasury_holdings")
    knots = {period_of(d): v for d, v in soma.items()}
    peak = facts.series("fed_soma_treasury_holdings_peak")
    knots.update({period_of(d): v for d, v in peak.items()})
    knots[PERIODS] = SOMA_2026Q4
    total = interpolate(knots)
    weekly = facts.series("fed_soma_bills_weekavg") / 1000  # USD mn -> bn
    if "fed_bills_decimals" in shipped:
        weekly = weekly.round(AS_SHIPPED["fed_bills_decimals"])
    held, december = weekly.iloc[0], weekly.iloc[-1]  # @2024-12-25 held from 2020 (assumption), @2025-12-24
    qt_end = period_of(facts.series("fed_qt_end_date").index[0])
    bill_knots = {0: 0.0, period_of("2019Q3"): 0.0, period_of("2019Q4"): FED_BILLS_2019Q4, period_of("2020Q1"): held}
    bill_knots.update({qt_end - 1: held, qt_end: december})
    bills = interpolate(bill_knots)
    # after QT ended notes and bonds stay at their level of that quarter; all SOMA growth is bills (RMPs)
    bonds_at_end = total[qt_end - 1] - bills[qt_end - 1]
    later = np.arange(1, PERIODS + 1) > qt_end
    bills[later] = total[later] - bonds_at_end
    return total, bills, total - bills


def fed_other_assets(facts: Facts) -> tuple[np.ndarray, np.ndarray]:
    """(the Fed's total assets, the first guess of MBScb): other assets = total assets - SOMA Treasuries,
    less the premiums the model's Fed pays over face value."""
    assets = facts.series("fed_total_assets")
    soma = facts.series("fed_soma_treasury_holdings")
    knots = {period_of(d): assets[d] - soma[d] for d in assets.index}
    knots[PERIODS] = MBS_2026Q4
    other = interpolate(knots)
    return other, other - interpolate(by_period(PREMIUMS))


def tga(facts: Facts) -> np.ndarray:
    knots = {period_of(d): v for d, v in facts.series("treasury_general_account").items()}
    knots[period_of(TGA_PEAK_QUARTER)] = facts.series("treasury_general_account_peak_2020").iloc[0]
    return interpolate(knots)


def coupon_issuance(facts: Facts) -> np.ndarray:
    """BLnet: net coupon issuance a quarter, by fiscal year (notes + bonds; the partial FY2026 annualised)."""
    notes, bonds = facts.series("treasury_net_issuance_notes"), facts.series("treasury_net_issuance_bonds")
    per_year = dict(COUPONS_FY)
    for day in notes.index:
        year = int(day[:4]) + (1 if int(day[5:7]) >= 10 else 0)
        days = (date.fromisoformat(day) - date(year - 1, 10, 1)).days + 1
        share = 1.0 if days >= 365 else days / 365
        per_year[year] = (notes[day] + bonds[day]) / share
    last = max(per_year)
    out = []
    for quarter in QUARTERS[1:]:
        year = min(fiscal_year(quarter), last)
        out.append(per_year[year] * COUPON_PROFILE.get(year, (0.25,) * 4)[fiscal_quarter(quarter)])
    return np.array(out)


def quarterly_gdp(facts: Facts, shipped: frozenset[str]) -> np.ndarray:
    """GDP a quarter, periods 1..31: the quarterly profile (scaled to gdp_nominal), gdp_nominal_saar / 4."""
    gdp = dict(GDP_PROFILE)
    if "gdp_profile_unscaled" not in shipped:
        for year, annual in facts.series("gdp_nominal").items():
            quarters = [q for q in gdp if q.startswith(year)]
            if len(quarters) == 4:
                scale = annual / sum(gdp[q] for q in quarters)
                gdp.update({q: gdp[q] * scale for q in quarters})
    gdp.update({q: v / 4 for q, v in facts.series("gdp_nominal_saar").items()})
    gdp.update(GDP_AFTER_FACTS)
    return np.array([gdp[q] for q in QUARTERS[1:]])


def quarterly_deficit(facts: Facts, shipped: frozenset[str]) -> np.ndarray:
    """The deficit a quarter: federal_surplus_or_deficit by fiscal year over its quarters."""
    per_year = {int(d[:4]): -v for d, v in facts.series("federal_surplus_or_deficit").items()}
    if "deficit_fy2019" in shipped:
        per_year[2019] = AS_SHIPPED["deficit_fy2019"]
    per_year[max(per_year) + 1] = DEFICIT_FY2026
    last = max(per_year)
    out = []
    for quarter in QUARTERS[1:]:
        year = min(fiscal_year(quarter), last)
        out.append(per_year[year] * DEFICIT_PROFILE.get(year, (0.25,) * 4)[fiscal_quarter(quarter)])
    return np.array(out)


def big4_capex(facts: Facts, shipped: frozenset[str]) -> dict[int, float]:
    """The big four's capex a year, 2019-2026 (USD bn)."""

    def firms(year: int, *names: str) -> float:
        return sum(facts.value(name, str(year)) for name in names)

    meta_2022 = facts.value("capex_meta_ppe_purchases", "2022")
    if "capex_meta_2022" in shipped:
        meta_2022 = AS_SHIPPED["capex_meta_2022"]
    guidance = facts.value("capex_big4_total_guidance", "2026")
    low = facts.value("capex_big4_total_guidance_feb2026_low", "2026")
    capex = {
        2019: facts.value("capex_meta", "2019") + CAPEX_2019_OTHER_THREE,
        2020: firms(2020, "capex_amazon", "capex_microsoft_table", "capex_alphabet") + CAPEX_META_2020,
        2021: firms(2021, "capex_amazon", "capex_microsoft_table", "capex_meta") + CAPEX_ALPHABET_2021,
        2022: firms(2022, "capex_amazon", "capex_microsoft_table", "capex_alphabet") + meta_2022,
        2026: AS_SHIPPED["capex_big4_2026"] if "capex_big4_2026" in shipped else (guidance + low) / 2,
    }
    capex.update({int(y): v for y, v in facts.series("capex_big4_total").items()})
    return capex


def ai_capex(facts: Facts, shipped: frozenset[str]) -> np.ndarray:
    """Iguide: a year's capex / 4 at mid-year (Q2), the 2025Q3 quarter as reported, linear between."""
    capex = big4_capex(facts, shipped)
    knots = {period_of(f"{year}Q2"): value / 4 for year, value in capex.items()}
    knots.update({period_of(q): v for q, v in facts.series("capex_big4_quarterly").items()})
    knots[PERIODS] = capex[2026] / 4 * IGUIDE_GROWTH_H2_2026
    return interpolate(knots)


def ai_lab_capex(facts: Facts) -> np.ndarray:
    """Ilab: capital calls -- SoftBank's 2025 commitment over 2025, then dc_pe_sovereign_ms over 2025-2028."""
    softbank = facts.series("softbank_openai_investment_total").iloc[0] / 4  # 40bn in 2025
    funds = facts.series("dc_pe_sovereign_ms").iloc[0] / ILAB_QUARTERS  # 350bn over 16 quarters
    knots = {"2019Q2": 0.0, ILAB_LAST_ZERO: 0.0, "2025Q2": softbank, "2026Q2": funds, QUARTERS[-1]: funds}
    return interpolate(by_period(knots))


def build(facts: Facts | None = None, as_shipped: bool | Iterable[str] = False) -> Baseline:
    """Every path of the baseline; TR, lock and MBScb are first guesses (the back-out sets them).

    ``as_shipped``: True applies every entry of ``AS_SHIPPED``, or name the entries to apply; False: none.
    """
    facts = Facts() if facts is None else facts
    unknown = set() if isinstance(as_shipped, bool) else set(as_shipped) - set(AS_SHIPPED)
    if unknown:
        raise KeyError(f"not in AS_SHIPPED: {', '.join(sorted(unknown))}")
    shipped = frozenset(AS_SHIPPED if as_shipped is True else () if as_shipped is False else as_shipped)
    soma, bills, bonds = fed_treasuries(facts, shipped)
    other_assets, mbs_guess = fed_other_assets(facts)
    gdp = quarterly_gdp(facts, shipped)
    ip = IP_SHARE * gdp
    for quarter, factor in IP_PANDEMIC.items():
        ip[period_of(quarter) - 1] *= factor
    paths = {
        "rpol": policy_rate(facts),
        "s_rrp": rrp_spread(facts),
        "BLcb": bonds,
        "Bcb": bills,
        "MBScb": mbs_guess,
        "TGA": tga(facts),
        "BLnet": coupon_issuance(facts),
        "G": G_SHARE * gdp,
        "TR": np.zeros(PERIODS),  # backed out
        "Ip": ip,
        "lock": np.zeros(PERIODS),  # backed out
        "Iguide": ai_capex(facts, shipped),
        "Ilab": ai_lab_capex(facts),
    }
    paths = {name: np.round(values, DECIMALS[name]) for name, values in paths.items()}
    return Baseline(
        paths=paths,
        deficit=quarterly_deficit(facts, shipped),
        gdp=gdp,
        fed_assets=other_assets + soma,
        notes=dict(NOTES),
    )


# the notes written above each path in the experiment table (what sets it)
NOTES = {
    "rpol": (
        "policy rate (effective fed funds, end of quarter): fed_funds_effective at 2019Q4 and from 2025Q1 "
        "(2026Q3-Q4 the August 2026 value); 2020Q1-2024Q4 the bottom of the range of fed_funds_target_change "
        "plus 8bp (the EFFR's place in the range at the year ends 2020-2024); 2019Q2-Q3 assumed (EFFR 2.38% "
        "and 1.90%)"
    ),
    "s_rrp": (
        "RRP rate below the policy rate: fed_rrp_rate_award vs fed_funds_effective; the Fed's technical "
        "adjustments (RRP rate 0 until June 2021, then 5bp above the bottom of the range, at the bottom again"
        " from December 2024) from the FOMC implementation notes (assumption where facts.csv has no RRP rate)"
    ),
    "BLcb": (
        "Fed notes and bonds (par) = fed_soma_treasury_holdings (year ends; peak "
        "fed_soma_treasury_holdings_peak 2022-06-08; 2025Q1-2026Q3 quarter ends) less bills; linear between "
        "facts; 2026Q4 assumed 4560"
    ),
    "Bcb": (
        "Fed bills: fed_soma_bills_weekavg@2024-12-25 (195bn) held from 2020 (assumption), @2025-12-24 224bn,"
        " then reserve management purchases (fed_rmp_bill_purchases_initial, "
        "fed_rmp_pace_through_mid_april_2026): all SOMA growth after QT ended (fed_qt_end_date) is bills"
    ),
    "MBScb": (
        "Fed MBS and other assets: fed_total_assets - fed_soma_treasury_holdings (same dates; linear "
        "between), less the premiums the model's Fed paid over face value for its Treasuries (it buys at the "
        "market price): derived so that the Fed's total assets at cost (FEDA) follow fed_total_assets; 2026Q4"
        " assumed 2170 (MBS runoff)"
    ),
    "TGA": (
        "treasury_general_account at year ends and 2025Q1-2026Q2 quarter ends, the 2020 peak "
        "(treasury_general_account_peak_2020, put in 2020Q2); linear between; held after 2026Q2"
    ),
    "BLnet": (
        "net coupon issuance a quarter = (treasury_net_issuance_notes + treasury_net_issuance_bonds)/4 by "
        "fiscal year FY2022-FY2026 (FY2026 partial to 2026-06-23, annualised); FY2019-FY2021 derived (not in "
        "facts): the deficit (federal_surplus_or_deficit) plus the change of the TGA less the change of bills"
        " implied by treasury_bills_share_2015_2020 and treasury_marketable_bills_outstanding@2020, spread "
        "over the quarters as the pandemic borrowing came (assumption)"
    ),
    "G": ("government purchases: 17.4% of quarterly GDP (assumption, BEA NIPA share); GDP from gdp_nominal(_saar)"),
    "TR": (
        "transfers: backed out so that the model's quarterly deficit follows federal_surplus_or_deficit "
        "(FY2019-FY2025, spread evenly over the quarters except FY2020-21, spread like the Monthly Treasury "
        "Statement; FY2026 assumed 1.8tn)"
    ),
    "Ip": (
        "other autonomous demand (private investment other than AI, state and local, net exports): 15.8% of "
        "GDP (assumption, BEA NIPA share), 14% and 5% lower in 2020Q2-Q3"
    ),
    "lock": (
        "consumption shifter (pandemic restrictions > 0, spending of excess savings < 0): backed out so that "
        "the model's GDP equals gdp_nominal (annual, spread over quarters) and gdp_nominal_saar "
        "(2024Q1-2025Q3); 2025Q4-2026 assumed +4.3% a year; the saving rate that results is compared with "
        "personal_saving_rate"
    ),
    "Iguide": (
        "hyperscalers' AI capex a quarter: big-four annual capex /4 at mid-year (capex_big4_total 2023-2025; "
        "2022 and 2021 the sum of capex_amazon, capex_microsoft_table, capex_alphabet, "
        "capex_meta(_ppe_purchases); 2019-2020 derived with assumed values for missing firms), "
        "capex_big4_quarterly@2025Q3, 2026 the midpoint of capex_big4_total_guidance (725) and "
        "capex_big4_total_guidance_feb2026_low (630); linear between"
    ),
    "Ilab": (
        "AI labs' capex paid by capital calls: softbank_openai_investment_total@2025-12-30 (40bn in 2025) and"
        " dc_pe_sovereign_ms@2028 (350bn over 2025-2028, 87.5bn a year); 0 before 2025 (assumption)"
    ),
}
