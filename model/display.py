"""Show a matrix the way the book prints it: with symbols, or with a period's values and their sums.

Rendered as Markdown (terminal, docs), LaTeX (papers) or HTML (notebooks). With values, a Σ column
holds each row's sum and a Σ row each column's sum over transactions, so an imbalance is visible.
"""

from __future__ import annotations

import html

import numpy as np

from .matrices import Matrix

FORMATS = ("md", "latex", "html")


def matrix_cells(matrix: Matrix, values: np.ndarray | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and body rows as text; ``values[row, column]`` (NaN for empty cells) switches to numbers."""
    header = ["", *matrix.columns, "Σ"]
    body = []
    for r, row in enumerate(matrix.rows):
        label = row.name + (" (revaluation)" if row.revaluation else "")
        if values is None:
            cells = [text or "" for text in row.texts]
            total = row.total_text or "0"
        else:
            cells = ["" if np.isnan(v) else _number(v) for v in values[r]]
            total = _number(np.nansum(values[r]))
        body.append([label, *cells, total])
    if values is not None:
        transaction = [not row.revaluation for row in matrix.rows]
        sums = np.nansum(values[transaction], axis=0)
        body.append(["Σ", *(_number(v) for v in sums), _number(np.nansum(sums))])
    return header, body


def render(matrix: Matrix, values: np.ndarray | None = None, fmt: str = "md", title: str = "") -> str:
    """The matrix as Markdown, LaTeX or HTML text."""
    header, body = matrix_cells(matrix, values)
    if fmt == "md":
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        out = [line(header), rule, *(line(row) for row in body)]
        return (f"**{title}**\n\n" if title else "") + "\n".join(out)
    if fmt == "latex":
        escape = lambda text: text.replace("&", r"\&").replace("_", r"\_").replace("%", r"\%").replace("Σ", r"$\Sigma$")  # noqa: E731
        out = [r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}", r"\hline"]
        out.append(" & ".join(escape(c) for c in header) + r" \\ \hline")
        out.extend(" & ".join(escape(c) for c in row) + r" \\" for row in body)
        out += [r"\hline", r"\end{tabular}"]
        return (f"% {title}\n" if title else "") + "\n".join(out)
    if fmt == "html":
        cells = lambda row, tag: "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row)  # noqa: E731
        rows = [f"<tr>{cells(header, 'th')}</tr>", *(f"<tr>{cells(row, 'td')}</tr>" for row in body)]
        caption = f"<caption>{html.escape(title)}</caption>" if title else ""
        return f"<table>{caption}{''.join(rows)}</table>"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) < 1e-9:
        return f"{value:.2e}"
    return f"{value:,.4f}"
