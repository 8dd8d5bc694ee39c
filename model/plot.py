"""Plots take results (a DataFrame), not models: one small panel per variable, over the periods."""

from __future__ import annotations

import math
from pathlib import Path

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
