"""Plots take results (a DataFrame), not models: one small panel per variable, over the periods."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd


def plot_results(
    results: pd.DataFrame,
    variables: list[str] | None = None,
    title: str = "",
    descriptions: dict[str, str] | None = None,
    path: str | Path | None = None,
):
    """Small multiples of ``variables`` against the period; saved to ``path`` if given. Returns the figure."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variables = list(variables or results.columns[:6])
    missing = [name for name in variables if name not in results.columns]
    if missing:
        raise KeyError(f"not in the results: {', '.join(missing)}")
    columns = min(3, len(variables))
    rows = math.ceil(len(variables) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.9 * rows), squeeze=False)
    descriptions = descriptions or {}
    for axis, name in zip(axes.flat, variables):
        axis.plot(results.index, results[name], color="tab:blue", linewidth=1.6)
        label = descriptions.get(name, "")
        axis.set_title(f"{name}: {label}" if label else name, fontsize=9)
        axis.set_xlabel(results.index.name or "period", fontsize=8)
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(variables) :]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=110)
        plt.close(figure)
    return figure


def _pyplot(path):
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(figure, plt, path):
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=110)
        plt.close(figure)
    return figure


def plot_net_lending(balances: pd.DataFrame, title: str = "", path: str | Path | None = None):
    """Each sector's net lending over time, with their sum (zero when the accounts are consistent)."""
    plt = _pyplot(path)
    figure, axis = plt.subplots(figsize=(8, 4.2))
    for sector in balances.columns:
        axis.plot(balances.index, balances[sector], linewidth=1.8, label=sector)
    axis.plot(balances.index, balances.sum(axis=1), color="black", linestyle=":", linewidth=1.2, label="sum of sectors")
    axis.axhline(0, color="grey", linewidth=0.6)
    axis.set_xlabel(balances.index.name or "period")
    axis.set_ylabel("net lending (+) / borrowing (-)")
    axis.set_title(title or "Sector net lending")
    axis.legend(fontsize=8, frameon=False)
    axis.grid(alpha=0.3)
    return _finish(figure, plt, path)


def plot_flows(flows: list[tuple[str, str, str, float]], title: str = "", path: str | Path | None = None):
    """A Sankey diagram of one period's transactions: payers on the left, receivers on the right.

    ``flows`` are (transaction, payer, receiver, amount) with amount > 0, e.g. from ``accounting.flows``.
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as CurvePath

    plt = _pyplot(path)
    sectors = sorted({f[1] for f in flows} | {f[2] for f in flows})
    total = sum(f[3] for f in flows) or 1.0
    gap = 0.04
    scale = (1 - gap * (len(sectors) - 1)) / total

    def stack(side: int):
        """Vertical extent of each sector's node on one side (0 payers, 1 receivers)."""
        sizes = {s: sum(f[3] for f in flows if f[1 + side] == s) for s in sectors}
        out, top = {}, 1.0
        for sector in sectors:
            out[sector] = [top, top - sizes[sector] * scale]
            top -= sizes[sector] * scale + (gap if sizes[sector] else 0)
        return out

    left, right = stack(0), stack(1)
    colours = plt.get_cmap("tab10")
    transactions = sorted({f[0] for f in flows})
    figure, axis = plt.subplots(figsize=(9, 5.5))
    cursor_left = {s: v[0] for s, v in left.items()}
    cursor_right = {s: v[0] for s, v in right.items()}
    for name, payer, receiver, amount in sorted(flows, key=lambda f: (sectors.index(f[1]), sectors.index(f[2]))):
        height = amount * scale
        y0, y1 = cursor_left[payer], cursor_right[receiver]
        cursor_left[payer] -= height
        cursor_right[receiver] -= height
        vertices = [
            (0.1, y0),
            (0.5, y0),
            (0.5, y1),
            (0.9, y1),
            (0.9, y1 - height),
            (0.5, y1 - height),
            (0.5, y0 - height),
            (0.1, y0 - height),
            (0.1, y0),
        ]
        codes = [
            CurvePath.MOVETO,
            CurvePath.CURVE4,
            CurvePath.CURVE4,
            CurvePath.CURVE4,
            CurvePath.LINETO,
            CurvePath.CURVE4,
            CurvePath.CURVE4,
            CurvePath.CURVE4,
            CurvePath.CLOSEPOLY,
        ]
        colour = colours(transactions.index(name) % 10)
        axis.add_patch(PathPatch(CurvePath(vertices, codes), facecolor=colour, alpha=0.55, edgecolor="none"))
    for side, nodes, x in ((0, left, 0.08), (1, right, 0.9)):
        for sector, (top, bottom) in nodes.items():
            if top - bottom <= 0:
                continue
            axis.add_patch(Rectangle((x, bottom), 0.02, top - bottom, color="dimgrey"))
            axis.text(
                x - 0.01 if side == 0 else x + 0.03,
                (top + bottom) / 2,
                sector,
                ha="right" if side == 0 else "left",
                va="center",
                fontsize=9,
            )
    handles = [Rectangle((0, 0), 1, 1, color=colours(i % 10), alpha=0.55) for i in range(len(transactions))]
    axis.legend(
        handles,
        transactions,
        fontsize=8,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=min(3, len(transactions)),
    )
    axis.set_xlim(-0.2, 1.2)
    axis.set_ylim(-0.02, 1.02)
    axis.axis("off")
    axis.set_title(title or "Transactions: who pays whom")
    axis.text(0.09, 1.02, "pays", ha="center", fontsize=8)
    axis.text(0.91, 1.02, "receives", ha="center", fontsize=8)
    return _finish(figure, plt, path)


def plot_blocks(graph, blocks, title: str = "", path: str | Path | None = None):
    """The block graph: each block a node (its variables), arrows from the blocks it needs."""
    import networkx as nx

    plt = _pyplot(path)
    condensed = nx.DiGraph()
    owner = {v: i for i, block in enumerate(blocks) for v in block.variables}
    condensed.add_nodes_from(range(len(blocks)), layer=0)
    for a, b in graph.edges:
        if owner[a] != owner[b]:
            condensed.add_edge(owner[a], owner[b])
    for layer, nodes in enumerate(nx.topological_generations(condensed)):
        for node in nodes:
            condensed.nodes[node]["layer"] = layer
    position = nx.multipartite_layout(condensed, subset_key="layer", align="horizontal")
    position = {n: (x, -y) for n, (y, x) in position.items()}
    labels = {i: "\n".join(textwrap_lines(", ".join(block.variables), 28)) for i, block in enumerate(blocks)}
    colours = ["tab:orange" if block.simultaneous else "tab:blue" for block in blocks]
    height = max(4, 1.1 * (max(d["layer"] for _, d in condensed.nodes(data=True)) + 1))
    figure, axis = plt.subplots(figsize=(10, height))
    nx.draw_networkx_edges(condensed, position, ax=axis, arrows=True, arrowsize=10, edge_color="grey", node_size=1800)
    nx.draw_networkx_nodes(condensed, position, ax=axis, node_color=colours, node_size=1800, alpha=0.25)
    nx.draw_networkx_labels(condensed, position, labels, ax=axis, font_size=7)
    axis.set_title((title or "Blocks in solve order") + " (left to right; orange = simultaneous)")
    axis.axis("off")
    return _finish(figure, plt, path)


def textwrap_lines(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [text]


def plot_fan(dataset, variable: str, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), path: str | Path | None = None):
    """A fan chart of a sweep's ``variable`` over the periods: shaded quantile bands and the median.

    ``dataset`` is a sweep (``drypowder.sweep.run_sweep``: dims draw x period). Quantiles pair up from
    the outside in (0.05 with 0.95, 0.25 with 0.75); inner bands are darker. The median is drawn
    whether or not 0.5 is listed. Saved to ``path`` if given. Returns the figure.
    """
    import numpy as np

    series = [name for name, array in dataset.data_vars.items() if array.dims == ("draw", "period")]
    if variable not in series:
        from .spec import suggest

        raise KeyError(f"the sweep has no series {variable!r}.{suggest(variable, series)}")
    levels = sorted({float(q) for q in quantiles} | {0.5})
    if any(not 0 <= q <= 1 for q in levels):
        raise ValueError(f"quantiles must lie between 0 and 1, got {tuple(quantiles)}")
    array = dataset[variable].transpose("draw", "period").to_numpy()
    periods = dataset["period"].to_numpy()
    bands = np.quantile(array, levels, axis=0)  # (quantile, period)
    plt = _pyplot(path)
    figure, axis = plt.subplots(figsize=(8, 4.2))
    pairs = [(i, len(levels) - 1 - i) for i in range(len(levels) // 2) if levels[i] < 0.5 < levels[-1 - i]]
    for depth, (lower, upper) in enumerate(pairs):
        axis.fill_between(
            periods,
            bands[lower],
            bands[upper],
            color="tab:blue",
            alpha=0.15 + 0.45 * (depth + 1) / (len(pairs) + 1),
            linewidth=0,
            label=f"{levels[lower]:.0%}-{levels[upper]:.0%}",
        )
    axis.plot(periods, bands[levels.index(0.5)], color="navy", linewidth=1.8, label="median")
    description = dataset[variable].attrs.get("description", "")
    model = dataset.attrs.get("model", "")
    axis.set_title(
        f"{model + ': ' if model else ''}{variable}{' - ' + description if description else ''} "
        f"({dataset.sizes['draw']} draws)",
        fontsize=10,
    )
    axis.set_xlabel("period")
    axis.set_ylabel(variable)
    axis.legend(fontsize=8, frameon=False)
    axis.grid(alpha=0.3)
    return _finish(figure, plt, path)


def plot_comparison(comparison: pd.DataFrame, variables: list[str], first: int | None, title: str = "", path=None):
    """Baseline and scenario of each variable (columns (variable, baseline|scenario|...)), one panel each."""
    plt = _pyplot(path)
    columns = min(3, len(variables))
    rows = math.ceil(len(variables) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.9 * rows), squeeze=False)
    for axis, name in zip(axes.flat, variables):
        axis.plot(comparison.index, comparison[name]["baseline"], color="grey", linestyle="--", label="baseline")
        axis.plot(comparison.index, comparison[name]["scenario"], color="tab:blue", label="scenario")
        if first is not None:
            axis.axvline(first, color="tab:red", linewidth=0.8, alpha=0.6)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel(comparison.index.name or "period", fontsize=8)
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8, frameon=False)
    for axis in list(axes.flat)[len(variables) :]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title, fontsize=11)
    return _finish(figure, plt, path)


def plot_response(multipliers, title: str = "", path=None):
    """Dynamic multipliers over the horizon, with the long-run multiplier as a dashed line."""
    plt = _pyplot(path)
    figure, axis = plt.subplots(figsize=(8, 4.2))
    for i, name in enumerate(multipliers.response.columns):
        colour = plt.get_cmap("tab10")(i % 10)
        axis.plot(
            multipliers.response.index, multipliers.response[name], marker="o", markersize=3, color=colour, label=name
        )
        long_run = multipliers.long_run.get(name)
        if long_run is not None and np.isfinite(long_run):
            axis.axhline(
                long_run, color=colour, linestyle="--", linewidth=0.9, label=f"{name}: long run {long_run:.3g}"
            )
    axis.axhline(0, color="grey", linewidth=0.6)
    axis.set_xlabel("periods after the change")
    axis.set_ylabel(f"response per unit of {multipliers.of}")
    axis.set_title(title or f"Dynamic multipliers of {multipliers.of}")
    axis.legend(fontsize=8, frameon=False)
    axis.grid(alpha=0.3)
    return _finish(figure, plt, path)
