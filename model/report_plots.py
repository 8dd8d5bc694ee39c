"""The DRYPOWDER report's plots. One figure per section of the report, saved as PNG files.

The x axis of every plot is quarters, labelled by year. The shock quarters and the switch quarter are
drawn as vertical lines, so a reader sees where each regime begins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .plot import _finish, _pyplot, plot_net_lending

SECTOR_COLOURS = {"Funds": "tab:blue", "Banks": "tab:green", "Fed": "tab:red"}


def save_report_plots(report, folder: Path) -> list[Path]:
    """Write every plot of ``report`` into ``folder`` (created if needed); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        folder / "dry_powder.png",
        folder / "multipliers.png",
        folder / "repricing.png",
        folder / "duration.png",
        folder / "net_lending.png",
    ]
    plot_dry_powder(report, paths[0])
    plot_multipliers(report, paths[1])
    plot_repricing(report, paths[2])
    plot_duration(report, paths[3])
    lending = report.tables["net_lending"]
    plot_net_lending(lending, f"{report.model.name}: sector net lending ($bn a year), {report.scenario_name}", paths[4])
    return paths


def _quarters(axis, labels: pd.Index) -> None:
    """Year labels on an axis whose positions are quarters 0..n-1."""
    ticks = [i for i, label in enumerate(labels) if label.endswith("Q1")]
    axis.set_xticks(ticks[::2])
    axis.set_xticklabels([labels[i][:4] for i in ticks[::2]], fontsize=8)
    axis.grid(alpha=0.3)


def _mark(axis, labels: pd.Index, quarter: str | None, text: str, colour: str) -> None:
    if quarter is not None and quarter in labels:
        position = labels.get_loc(quarter)
        axis.axvline(position, color=colour, linewidth=0.9, linestyle="--")
        axis.annotate(
            text,
            (position, 1),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color=colour,
            rotation=90,
            va="top",
            ha="right",
        )


def plot_dry_powder(report, path=None):
    """Dry powder and the RRP, dry powder's share of wealth, reserves against the kink, the regime indicator."""
    from .report import THRESHOLD

    plt = _pyplot(path)
    base, labels = report.baseline, report.baseline.index
    x = np.arange(len(labels))
    figure, axes = plt.subplots(2, 2, figsize=(11, 6.6))
    (a, b), (c, d) = axes
    a.plot(x, base["DP"], label="dry powder (funds' liquid assets above their floor)", color="tab:blue")
    a.plot(x, base["RRP"], label="Fed reverse repo (RRP)", color="tab:orange")
    a.set_title("Dry powder and the RRP ($bn)", fontsize=10)
    a.legend(fontsize=7, frameon=False)
    b.plot(x, 100 * base["DPsh"], color="tab:blue")
    b.set_title("Dry powder, % of funds' tradable wealth", fontsize=10)
    c.plot(x, 100 * base["rr"], color="tab:green", label="reserves / bank assets")
    c.axhline(100 * report.model.parameters["rr_kink"], color="grey", linestyle=":", label="scarcity kink")
    c.set_title("Bank reserves against their scarcity kink (%)", fontsize=10)
    c.legend(fontsize=7, frameon=False)
    d.plot(x, base["regime"], color="black", label="regime indicator")
    d.axhline(THRESHOLD, color="grey", linestyle=":", label=f"threshold {THRESHOLD}")
    # the scale of the years the switch is searched in; a spike before them (2020's dash for cash) is
    # clipped and labelled, so that it does not flatten the rest
    from .report import SEARCH_FROM

    later = base["regime"].loc[SEARCH_FROM:]
    top = max(float(later.max()), THRESHOLD) * 1.25
    spike = base["regime"].loc[:SEARCH_FROM]
    if float(spike.max()) > top:
        at = labels.get_loc(spike.idxmax())
        d.set_ylim(top=top)
        d.annotate(
            f"{spike.idxmax()}: {spike.max():.1f}",
            (at, top),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
            color="grey",
        )
    d.set_title("Regime: price impact of a $100bn drain vs ample", fontsize=10)
    d.legend(fontsize=7, frameon=False, loc="lower right")
    colours = {"scenario": "tab:purple", "hawkish": "tab:red", "plumbing": "tab:green"}
    for key, colour in colours.items():
        _mark(d, labels, report.switches.get(key), f"switch: {key}", colour)
    for axis in axes.flat:
        _quarters(axis, labels)
        _mark(axis, labels, report.switch_period, "", "tab:purple")
    figure.suptitle(
        f"{report.model.name}: dry powder and the switch to reverse QE ({report.scenario_name})", fontsize=11
    )
    return _finish(figure, plt, path)


def plot_multipliers(report, path=None):
    """Dynamic multipliers (change in output per unit of extra spending), one panel per regime."""
    from .report import LEVERS, LONG_RUN, REGIMES

    plt = _pyplot(path)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for axis, (regime, quarter) in zip(axes, REGIMES.items()):
        for lever in LEVERS:
            after = report.responses[lever.name, regime].loc[quarter:].iloc[: LONG_RUN[1]]
            spending = after[lever.spending].to_numpy()
            ratio = np.divide(after["Y"].to_numpy(), spending, out=np.full(len(after), np.nan), where=spending != 0)
            axis.plot(np.arange(len(after)), ratio, marker="o", markersize=2.5, label=lever.label)
        axis.axhline(0, color="grey", linewidth=0.6)
        axis.axvspan(-0.5, 7.5, color="grey", alpha=0.08, label="cumulative: 8 quarters")
        axis.axvspan(LONG_RUN[0] - 0.5, LONG_RUN[1] - 0.5, color="tab:purple", alpha=0.08, label="long run")
        axis.set_xticks(range(0, LONG_RUN[1], 4))
        axis.set_title(f"{regime} dry powder: shock in {quarter}", fontsize=10)
        axis.set_xlabel("quarters after the shock")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("change in output / change in spending")
    axes[0].legend(fontsize=7, frameon=False)
    figure.suptitle(f"{report.model.name}: multipliers of +$200bn a year ({report.scenario_name})", fontsize=11)
    return _finish(figure, plt, path)


def plot_repricing(report, path=None):
    """Price changes (%) and rate changes (bp) 8 quarters after the AI-capex shock, per regime."""
    from .report import PRICES, RATES

    plt = _pyplot(path)
    table = report.tables["repricing"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [4, 3]})
    for axis, keys, unit in ((left, list(PRICES), "%"), (right, list(RATES), "bp")):
        x = np.arange(len(keys))
        for i, regime in enumerate(table.columns):
            bars = axis.bar(
                x + (i - 0.5) * 0.38,
                table.loc[keys, regime],
                width=0.38,
                label=regime,
                color=("tab:blue", "tab:red")[i % 2],
            )
            axis.bar_label(bars, fmt="%+.2f", fontsize=7, padding=2)
        axis.set_xticks(x)
        axis.set_xticklabels([key.replace("_bp", "").replace("_", " ") for key in keys], fontsize=8)
        axis.axhline(0, color="grey", linewidth=0.6)
        axis.set_ylabel(unit)
        axis.grid(alpha=0.3, axis="y")
    left.set_title("Asset prices (percent)", fontsize=10)
    right.set_title("Yields and spreads (basis points)", fontsize=10)
    left.legend(fontsize=8, frameon=False, title="dry powder", title_fontsize=8)
    figure.suptitle(
        f"{report.model.name}: 8 quarters after +$200bn a year of bond-financed AI capex ({report.scenario_name})",
        fontsize=11,
    )
    return _finish(figure, plt, path)


def plot_duration(report, path=None):
    """Holdings in 10-year equivalents by sector (stacked), and who bought each year's new issuance."""
    from .report import duration_holdings

    plt = _pyplot(path)
    base, labels = report.baseline, report.baseline.index
    holdings = duration_holdings(base)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    sectors = list(SECTOR_COLOURS)
    left.stackplot(
        np.arange(len(labels)),
        [holdings[s] for s in sectors],
        labels=sectors,
        colors=[SECTOR_COLOURS[s] for s in sectors],
        alpha=0.75,
    )
    left.plot(
        np.arange(len(labels)),
        holdings["of which hyperscaler bonds (funds)"],
        color="black",
        linewidth=1,
        label="of which hyperscaler bonds",
    )
    left.set_title("Bonds held, 10-year equivalents ($bn)", fontsize=10)
    left.legend(fontsize=7, frameon=False, loc="upper left")
    _quarters(left, labels)
    absorbed = report.tables["absorption"]
    bottom_pos = np.zeros(len(absorbed))
    bottom_neg = np.zeros(len(absorbed))
    x = np.arange(len(absorbed))
    for sector in sectors:
        values = absorbed[sector].to_numpy()
        base_ = np.where(values >= 0, bottom_pos, bottom_neg)
        right.bar(x, values, bottom=base_, color=SECTOR_COLOURS[sector], label=sector, alpha=0.8)
        bottom_pos += np.where(values >= 0, values, 0)
        bottom_neg += np.where(values < 0, values, 0)
    issuance = absorbed["Treasury issuance"] + absorbed["hyperscaler issuance"]
    right.plot(x, issuance, color="black", marker="o", markersize=3, linewidth=1, label="new issuance")
    right.set_xticks(x)
    right.set_xticklabels(absorbed.index, fontsize=8, rotation=45)
    right.axhline(0, color="grey", linewidth=0.6)
    right.set_title("Who bought each year's new bonds ($bn, 10-year eq.)", fontsize=10)
    right.legend(fontsize=7, frameon=False)
    right.grid(alpha=0.3, axis="y")
    figure.suptitle(f"{report.model.name}: who absorbs the duration ({report.scenario_name})", fontsize=11)
    return _finish(figure, plt, path)
