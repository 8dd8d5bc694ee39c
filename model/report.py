"""The DRYPOWDER report: the model's story as tables, plots and a JSON file (``drypowder report drypowder``).

Every number comes from runs of the model itself. The baseline is the scenario the user names, or the
model's own experiment, the historical path from 2019 to 2026, extended flat to 2030Q4. Each experiment
runs beside that baseline with one change added, and the report shows the difference between the two:

* multipliers of fiscal spending, of fiscal spending with the Fed buying the new bonds (QE), and of
  hyperscalers' AI capex, each a permanent +$200bn a year (+50 a quarter). A shock in 2021Q4 lands
  while dry powder is ample; one in 2025Q4 lands after it is exhausted. The multiplier is the change in
  output over the change in the spending itself: on impact, cumulated over 8 quarters, and over
  quarters 17-20 (the "long run"). The flagship has no stationary state on a historical baseline, so
  the long run is read from the run, not from a steady state;
* repricing: asset prices in percent and yields and spreads in basis points, 8 quarters after the
  AI-capex shock. The same is shown for the fiscal shock with and without QE in the exhausted regime;
* the 10-year yield's impact response to $100bn of QE (Fed bond purchases) in each regime, beside the
  event-study range;
* dry powder, its share of funds' tradable wealth, bank reserves against their scarcity kink and the
  regime indicator. The switch to reverse QE is the first quarter after the QE era (from 2021Q1) in
  which the indicator exceeds the threshold;
* duration absorption: bond holdings in 10-year-Treasury equivalents by sector, and who bought each
  year's new issuance;
* sector net lending, which sums to zero across sectors.

No input names an outcome. The switch date, the signs and the rankings are read from the solved runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ModelError
from .model import Model
from .scenario import read_scenario
from .shocks import ParameterChange, Shock

END = "2030Q4"  # the last quarter of every run: 20 quarters after the exhausted-regime shock
REGIMES = {"ample": "2021Q4", "exhausted": "2025Q4"}  # when each regime's shock lands
STEP = 50.0  # +$200bn a year, in $bn a quarter
QE_SIZE = 100.0  # $bn of Fed bond purchases, for the 10-year yield's response
THRESHOLD = 1.5  # the switch: draining $100bn moves prices 1.5 times as much as with ample dry powder
THRESHOLDS = (1.25, 1.5, 2.0, 3.0)
SEARCH_FROM = "2021Q1"  # 2019-20 (repo stress, the dash for cash) came before the QE era's dry powder
EVENT_STUDY_BP = (-6.0, -2.0)  # Gagnon et al. (2011): 2-6bp lower 10-year yield per $100bn of QE, calm markets
CUMULATIVE = 8  # quarters
LONG_RUN = (16, 20)  # quarters after the shock (0 = impact) over which the long-run multiplier is read
PRICES = {
    "crypto": "pcr",
    "growth_equity": "peg",
    "broad_equity": "peb",
    "near_cash_flow_equity": "pen",
}
RATES = {"treasury_10y_yield_bp": "y10", "term_premium_bp": "TP", "credit_spread_bp": "spcb"}
# key in the JSON's switch_periods -> shipped scenario (MODEL.md 7.4: each lever alone, and all together)
COMPARISON_SCENARIOS = {
    "hawkish": "hawkish",
    "plumbing_bills": "plumbing_bills",
    "plumbing_tga": "plumbing_tga",
    "plumbing_rmp": "plumbing_rmp",
    "plumbing": "plumbing_all",
}
SWITCH_ROWS = {
    "scenario": "this scenario",
    "baseline": "baseline",
    "hawkish": "hawkish Fed",
    "plumbing_bills": "plumbing: bill-heavy issuance",
    "plumbing_tga": "plumbing: TGA drawdown",
    "plumbing_rmp": "plumbing: reserve management purchases",
    "plumbing": "plumbing: all three levers",
}
REQUIRED = ("Y", "G", "Idc", "Iguide", "BLnet", "BLcb", "regime", "DP", "DPsh", "WT", "rr", "R", "RRP", "pbl", "pcb")
REQUIRED += ("BLf", "BLb", "BLs", "CBs", "dur_bl", "dur_cb", "TEQf", "TEQb", "TEQcb", *PRICES.values(), *RATES.values())


@dataclass(frozen=True)
class Lever:
    """A +$200bn-a-year policy or spending change, and the spending it is a multiplier of."""

    name: str
    label: str
    spending: str  # the variable whose change is the denominator of the multiplier

    def shocks(self, start: int, end: int) -> list[Shock]:
        if self.name == "ai_capex":
            return [Shock("Iguide", start, add=STEP)]
        fiscal = [Shock("G", start, add=STEP), Shock("BLnet", start, add=STEP)]  # financed by new coupon bonds
        if self.name == "fiscal":
            return fiscal
        # the Fed buys the new bonds as they are issued: its holdings rise by STEP a quarter to the end
        return fiscal + [Shock("BLcb", start, end=end, kind="ramp", add=STEP * (end - start + 1))]


LEVERS = (
    Lever("fiscal", "fiscal spending, bond-financed", "G"),
    Lever("fiscal_with_qe", "fiscal spending, the Fed buying the new bonds", "G"),
    Lever("ai_capex", "hyperscalers' AI capex, bond-financed", "Idc"),
)


@dataclass
class Report:
    """The report's runs, reduced to tables (``tables``), a JSON-ready dict (``summary``) and plots."""

    model: Model
    scenario_name: str
    baseline: pd.DataFrame  # the scenario run, indexed by quarter labels
    responses: dict[tuple[str, str], pd.DataFrame]  # (lever, regime) -> shocked run minus baseline
    qe_bp: dict[str, float]
    switches: dict[str, str | None]  # first reverse-QE quarter, by SWITCH_ROWS key
    crossings: dict[str, float | None]  # the same, as a fractional period (the indicator interpolated)
    switch_by_threshold: dict[float, str | None]
    max_relative_imbalance: float
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def switch_period(self) -> str | None:
        return self.switches["scenario"]

    def summary(self) -> dict:
        """The ``--json`` content: the keys other tools read (see the issue and the README)."""
        multipliers = self.tables["multipliers"]
        return {
            "model": self.model.name,
            "scenario": self.scenario_name,
            "switch_threshold": THRESHOLD,
            "switch_period": self.switch_period,
            "switch_periods": {name: self.switches[name] for name in ("baseline", *COMPARISON_SCENARIOS)},
            "switch_period_by_threshold": {str(k): v for k, v in self.switch_by_threshold.items()},
            "switch_crossings": {
                key: _number(value) if value is not None else None for key, value in self.crossings.items()
            },
            "multipliers": {
                lever.name: {
                    regime: {key: _number(multipliers.loc[(lever.name, regime), key]) for key in multipliers.columns}
                    for regime in REGIMES
                }
                for lever in LEVERS
            },
            "repricing": {regime: _column(self.tables["repricing"][regime]) for regime in REGIMES},
            "fiscal_repricing": {
                which: _column(self.tables["fiscal_repricing"][which]) for which in ("with_qe", "without_qe")
            },
            "qe_10y_bp_per_100bn": {regime: _number(self.qe_bp[regime]) for regime in REGIMES},
            "qe_event_study_bp_per_100bn": list(EVENT_STUDY_BP),
            "shock_quarters": dict(REGIMES),
            "max_relative_imbalance": _number(self.max_relative_imbalance),
        }

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)  # as --plots makes its folder
        path.write_text(json.dumps(self.summary(), indent=2) + "\n", encoding="utf-8")
        return path

    def text(self) -> str:
        """The printed report: one titled table after another, each with a line on how to read it."""
        fmt = _formatter
        parts = [
            f"DRYPOWDER report: scenario {self.scenario_name!r}, quarterly to {END}; "
            f"the largest accounting imbalance in any run behind it: {self.max_relative_imbalance:.1e} (relative)",
        ]
        for key, title, note in SECTIONS:
            table = self.tables[key]
            parts.append(f"\n{title}\n{'-' * len(title)}\n{note}\n{table.to_string(float_format=fmt, na_rep='none')}")
            if key in ("repricing", "fiscal_repricing"):
                parts.append(_ranking(table))
        return "\n".join(parts) + "\n"

    def save_plots(self, folder: str | Path) -> list[Path]:
        from .report_plots import save_report_plots

        return save_report_plots(self, Path(folder))


SECTIONS = (
    (
        "switch",
        "The switch to reverse QE",
        f"First quarter after {SEARCH_FROM} in which the regime indicator exceeds {THRESHOLD} "
        "(none: not by the end of the run); the crossing interpolates between quarters (period 0 = 2019Q1), "
        "so a lever that moves the switch by less than a quarter shows there.",
    ),
    (
        "switch_by_threshold",
        "The switch and its threshold (this scenario)",
        "A higher threshold never brings the switch forward.",
    ),
    (
        "dry_powder",
        "Dry powder, reserves and the regime (fourth quarters)",
        "DP: funds' liquid assets above their floor ($bn); DP share: of tradable wealth; reserves/assets "
        "against the kink of the banks' demand curve; regime: price impact of a $100bn drain relative to ample.",
    ),
    (
        "multipliers",
        "Multipliers: change in output per unit of spending (+$200bn a year, permanent)",
        f"ample: the shock lands in {REGIMES['ample']}; exhausted: in {REGIMES['exhausted']}. "
        f"cumulative_8q: sum over 8 quarters; long_run: quarters {LONG_RUN[0]}-{LONG_RUN[1] - 1} after the shock.",
    ),
    (
        "repricing",
        "Repricing 8 quarters after +$200bn a year of bond-financed AI capex",
        "Prices in percent, yields and spreads in basis points, against the run without the shock.",
    ),
    (
        "fiscal_repricing",
        "Repricing 8 quarters after the fiscal shock, exhausted regime, with and without QE",
        "With QE the Fed absorbs the new bonds' duration.",
    ),
    (
        "qe",
        "The 10-year yield's response to $100bn of QE (impact, basis points)",
        f"Event studies: {EVENT_STUDY_BP[0]:g} to {EVENT_STUDY_BP[1]:g}bp per $100bn in calm markets (Gagnon et al. "
        "2011); larger under stress.",
    ),
    (
        "duration",
        "Duration: bond holdings in 10-year-Treasury equivalents ($bn, fourth quarters)",
        "Treasury and hyperscaler bonds, weighted by duration relative to the 10-year Treasury's.",
    ),
    (
        "absorption",
        "Who absorbed each year's new bond issuance (10-year equivalents, $bn)",
        "Net purchases at market prices; the sectors add up to the issuance.",
    ),
    (
        "net_lending",
        "Sector net lending ($bn a year)",
        "Saving minus investment of each sector; the sectors sum to zero.",
    ),
)


def build_report(model: Model, scenario: str | Path | None = None) -> Report:
    """Run everything the report needs on ``model`` (the DRYPOWDER model, or a copy with other parameters).

    ``scenario`` (a file or a shipped scenario's name) becomes the baseline of every experiment; its own
    switch quarter is ``switch_period``. About 15 runs of 48 quarters.
    """
    _check_model(model)
    calendar = model.spec.calendar
    end = calendar.period(END, "the report's horizon")
    history = list(model.spec.experiment.shocks)
    shocks, changes, name = _scenario_inputs(model, scenario)
    runs = _Runs(model, end)
    baseline = runs(history + shocks, changes)
    responses = {}
    for lever in LEVERS:
        for regime, quarter in REGIMES.items():
            start = calendar.period(quarter, "the report")
            responses[lever.name, regime] = runs(history + shocks + lever.shocks(start, end), changes) - baseline
    qe_bp = {}
    for regime, quarter in REGIMES.items():
        start = calendar.period(quarter, "the report")
        units = QE_SIZE / baseline["pbl"].iloc[start]  # $100bn at the bond's market price, in face-value units
        after = runs(history + shocks + [Shock("BLcb", start, add=units)], changes)
        qe_bp[regime] = 1e4 * (after["y10"].iloc[start] - baseline["y10"].iloc[start])
    crossings = {"scenario": crossing(baseline)}
    crossings["baseline"] = crossings["scenario"] if scenario is None else crossing(runs(history, []))
    for key, shipped in COMPARISON_SCENARIOS.items():
        other, _ = read_scenario(shipped, model)
        crossings[key] = crossing(runs(history + other.shocks, other.changes))
    switches = {key: _quarter(model, value) for key, value in crossings.items()}
    report = Report(
        model=model,
        scenario_name=name,
        baseline=baseline,
        responses=responses,
        qe_bp=qe_bp,
        switches=switches,
        crossings=crossings,
        switch_by_threshold={k: switch_quarter(baseline, k) for k in THRESHOLDS},
        max_relative_imbalance=runs.worst,
    )
    report.tables = _tables(report)
    return report


class _Runs:
    """Runs of one model to the report's horizon, labelled by quarter, keeping the worst accounting gap.

    All of them on one back end, chosen for the whole report: each run alone is too short for ``auto`` to
    pick machine code, but together they are not (DRYPOWDER: 14 runs take about 14 s on the numpy path and
    0.2 s in machine code, after a one-off compile of 20-30 s that is cached on disk).
    """

    def __init__(self, model: Model, end: int, backend: str | None = None):
        self.model, self.end, self.worst = model, end, 0.0
        self.backend = backend or report_backend()

    def __call__(self, shocks: list[Shock], changes: list[ParameterChange]) -> pd.DataFrame:
        results = self.model.run(periods=self.end, shocks=shocks, changes=changes, backend=self.backend)
        self.worst = max(self.worst, results.attrs.get("max_relative_imbalance", 0.0))
        results.index = pd.Index(self.model.spec.calendar.labels(self.end), name="quarter")
        return results


def report_backend() -> str:
    """numba when it is installed (the report's runs together repay its compile), else numpy."""
    from . import jit

    return "numba" if jit.AVAILABLE else "numpy"


def needs_compiling(model: Model) -> bool:
    """Whether the report's first run will compile the model to machine code (not yet cached on this machine)."""
    from . import jit

    return report_backend() == "numba" and model.compiled.machine_code is None and not jit.is_cached(model.compiled)


def switch_quarter(results: pd.DataFrame, threshold: float = THRESHOLD) -> str | None:
    """The first quarter from ``SEARCH_FROM`` in which the regime indicator exceeds ``threshold`` (None: never)."""
    time = crossing(results, threshold)
    return None if time is None else str(results.index[_first_above(time)])


def crossing(results: pd.DataFrame, threshold: float = THRESHOLD) -> float | None:
    """When the regime indicator crosses ``threshold`` from ``SEARCH_FROM`` on, as a fractional period (2019Q1 = 0),
    interpolating linearly between quarters; None if it never does. A lever that moves the crossing by less
    than a quarter shows here, not in the switch quarter."""
    indicator = results["regime"].to_numpy()
    start = list(results.index).index(SEARCH_FROM)
    above = np.flatnonzero(indicator[start:] > threshold)
    if above.size == 0:
        return None
    t = start + int(above[0])
    if t == start:
        return float(t)
    return t - 1 + (threshold - indicator[t - 1]) / (indicator[t] - indicator[t - 1])


def _quarter(model: Model, time: float | None) -> str | None:
    """The quarter in which a crossing at fractional period ``time`` happens (the first quarter above)."""
    return None if time is None else model.spec.calendar.label(_first_above(time))


def _first_above(time: float) -> int:
    """The period of a crossing at fractional ``time``: the first whole period at or after it."""
    return math.ceil(time - 1e-12)


def _check_model(model: Model) -> None:
    missing = [name for name in REQUIRED if name not in model.spec.series]
    flows = model.accounting is not None and "transactions" in model.accounting.matrices  # cached: no parse
    if missing or model.spec.calendar is None or not flows:
        raise ModelError(
            f"the report is written for the DRYPOWDER model (drypowder report drypowder); model {model.name} "
            + (f"has no {', '.join(missing[:6])}" if missing else "has no calendar or no [transactions] matrix")
            + ". For other models use 'drypowder run', 'compare' or 'multipliers'."
        )


def _scenario_inputs(model: Model, scenario) -> tuple[list[Shock], list[ParameterChange], str]:
    if scenario is None:
        return [], [], "baseline"
    spec, _ = read_scenario(scenario, model)
    if not spec.experiment:
        raise ModelError(
            f"{spec.path}: the report's scenario must build on the model's historical experiment "
            "(remove 'experiment = false' from its [scenario] table)"
        )
    return list(spec.shocks), list(spec.changes), spec.name


def _tables(report: Report) -> dict[str, pd.DataFrame]:
    base = report.baseline
    model = report.model
    tables = {
        "switch": pd.DataFrame(
            {
                "first reverse-QE quarter": [report.switches[key] for key in SWITCH_ROWS],
                "crossing (period, interpolated)": [report.crossings[key] for key in SWITCH_ROWS],
            },
            index=list(SWITCH_ROWS.values()),
        ),
        "switch_by_threshold": pd.DataFrame(
            {"first reverse-QE quarter": list(report.switch_by_threshold.values())},
            index=pd.Index(list(report.switch_by_threshold), name="threshold"),
        ),
    }
    years = [label for label in base.index if label.endswith("Q4")]
    tables["dry_powder"] = pd.DataFrame(
        {
            "DP ($bn)": base["DP"],
            "DP share (%)": 100 * base["DPsh"],
            "RRP ($bn)": base["RRP"],
            "reserves ($bn)": base["R"],
            "reserves/assets (%)": 100 * base["rr"],
            "kink (%)": 100 * model.parameters["rr_kink"],
            "regime": base["regime"],
        }
    ).loc[years]
    rows = {}
    for lever in LEVERS:
        for regime in REGIMES:
            rows[lever.name, regime] = _multipliers(report.responses[lever.name, regime], lever, REGIMES[regime])
    tables["multipliers"] = pd.DataFrame(rows).T.rename_axis(["lever", "regime"])
    tables["repricing"] = pd.DataFrame({regime: _repricing(report, "ai_capex", regime) for regime in REGIMES})
    tables["fiscal_repricing"] = pd.DataFrame(
        {
            "with_qe": _repricing(report, "fiscal_with_qe", "exhausted"),
            "without_qe": _repricing(report, "fiscal", "exhausted"),
        }
    )
    tables["qe"] = pd.DataFrame(
        {
            "10y yield (bp)": [report.qe_bp[regime] for regime in REGIMES],
            "event studies, low (bp)": EVENT_STUDY_BP[0],
            "event studies, high (bp)": EVENT_STUDY_BP[1],
        },
        index=[f"{regime} ({quarter})" for regime, quarter in REGIMES.items()],
    )
    holdings = duration_holdings(base)
    tables["duration"] = holdings.loc[years]
    absorbed = new_issuance_absorbed(base)
    tables["absorption"] = absorbed.groupby(absorbed.index.str[:4].rename("year")).sum()
    lending = model.net_lending(base.reset_index(drop=True))
    lending.index = base.index[1:]
    tables["net_lending"] = lending.groupby(lending.index.str[:4].rename("year")).sum()
    return tables


def _multipliers(response: pd.DataFrame, lever: Lever, quarter: str) -> dict[str, float]:
    """Impact, 8-quarter cumulative and long-run multipliers of output on ``lever.spending``."""
    after = response.loc[quarter:]
    output, spending = after["Y"].to_numpy(), after[lever.spending].to_numpy()

    def ratio(first: int, stop: int) -> float:
        paid = spending[first:stop].sum()
        return float(output[first:stop].sum() / paid) if abs(paid) > 1e-9 else math.nan

    return {"impact": ratio(0, 1), "cumulative_8q": ratio(0, CUMULATIVE), "long_run": ratio(*LONG_RUN)}


def _repricing(report: Report, lever: str, regime: str) -> pd.Series:
    """Percent changes of the prices and basis-point changes of the rates, 8 quarters after the shock."""
    when = report.model.spec.calendar.period(REGIMES[regime], "the report") + CUMULATIVE
    base = report.baseline.iloc[when]
    change = report.responses[lever, regime].iloc[when]
    values = {key: 100 * change[name] / base[name] for key, name in PRICES.items()}
    values.update({key: 1e4 * change[name] for key, name in RATES.items()})
    return pd.Series(values)


def duration_holdings(results: pd.DataFrame) -> pd.DataFrame:
    """Treasury and hyperscaler bonds held by each sector, in 10-year-Treasury equivalents ($bn)."""
    return pd.DataFrame(
        {
            "Funds": results["TEQf"],
            "Banks": results["TEQb"],
            "Fed": results["TEQcb"],
            "of which hyperscaler bonds (funds)": results["pcb"]
            * results["CBs"]
            * results["dur_cb"]
            / results["dur_bl"],
        }
    )


def new_issuance_absorbed(results: pd.DataFrame) -> pd.DataFrame:
    """Each quarter's net new bonds, in 10-year equivalents at that quarter's prices, and who bought them.

    A holder's purchase is the price times the change in face value it holds. Hyperscaler bonds are
    weighted by their duration relative to the Treasury's. The buyers add up to the issuance, because
    every bond issued is held by someone.
    """
    price, weight = results["pbl"], results["pcb"] * results["dur_cb"] / results["dur_bl"]
    frame = pd.DataFrame(
        {
            "Treasury issuance": price * results["BLs"].diff(),
            "hyperscaler issuance": weight * results["CBs"].diff(),
            "Funds": price * results["BLf"].diff() + weight * results["CBs"].diff(),
            "Banks": price * results["BLb"].diff(),
            "Fed": price * results["BLcb"].diff(),
        }
    )
    return frame.iloc[1:]


def _ranking(table: pd.DataFrame) -> str:
    """The asset prices of each column of a repricing table, worst first (MODEL.md 5: "ranked")."""
    lines = ["Asset prices ranked, worst first:"]
    for column in table.columns:
        ordered = table.loc[list(PRICES), column].sort_values()
        lines.append(
            f"  {column}: " + " < ".join(f"{name.replace('_', ' ')} ({value:+.2f}%)" for name, value in ordered.items())
        )
    return "\n".join(lines)


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _column(series: pd.Series) -> dict[str, float | None]:
    return {key: _number(value) for key, value in series.items()}


def _formatter(value: float) -> str:
    return f"{value:,.2f}" if abs(value) < 1e5 else f"{value:,.0f}"
