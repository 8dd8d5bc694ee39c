"""The balance-sheet and transactions-flow matrices a model declares, as Godley & Lavoie print them.

Rows are instruments or transactions, columns are sectors (a sector may have a current and a capital
account column in the flow matrix), cells are expressions in the model's variables with their sign.
A flow row may be the ``change`` in a balance-sheet row (flows of funds) or its ``revaluation``
(capital gains); that link is what lets stocks and flows be checked against each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelFileError
from .parse import (
    Where,
    parse_expression,
    sympy,  # imported on first use (parse._Deferred): a cached run never parses
)

BALANCE_SHEET = "balance_sheet"
TRANSACTIONS = "transactions"
TITLES = {BALANCE_SHEET: "balance sheet", TRANSACTIONS: "transactions-flow matrix"}


@dataclass(frozen=True)
class MatrixRow:
    """One row: a cell (or None) per column, what it sums to, and its link to the balance sheet."""

    name: str
    cells: tuple[sympy.Expr | None, ...]
    texts: tuple[str, ...]
    where: Where
    change: str | None = None
    revaluation: str | None = None
    total: sympy.Expr | None = None
    total_text: str = ""

    @property
    def is_transaction(self) -> bool:
        """A revaluation is not a transaction: it changes net worth without any payment."""
        return self.revaluation is None


@dataclass(frozen=True)
class Matrix:
    """A balance sheet or a transactions-flow matrix; ``sectors[j]`` is column j's balance-sheet sector."""

    kind: str
    columns: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    sectors: tuple[str, ...]
    where: Where

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def _repr_html_(self) -> str:
        """Notebooks show the matrix as the book prints it (with symbols)."""
        from .display import render

        return render(self, fmt="html", title=self.title)

    def row(self, name: str) -> MatrixRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)


def read_matrices(data: dict, path: Path) -> dict[str, Matrix]:
    """The ``[balance_sheet]`` and ``[transactions]`` tables of one model file, parsed."""
    text = path.read_text(encoding="utf-8")
    return {kind: _read_matrix(kind, data[kind], path, text) for kind in (BALANCE_SHEET, TRANSACTIONS) if kind in data}


def link_matrices(matrices: dict[str, Matrix]) -> None:
    """Once every file is read: flow rows must name real balance-sheet rows, sectors must match."""
    flows = matrices.get(TRANSACTIONS)
    if flows is None:
        return
    if BALANCE_SHEET in matrices:
        _link(matrices[BALANCE_SHEET], flows)
    elif any(row.change or row.revaluation for row in flows.rows):
        raise ModelFileError(
            f"{flows.where}: [transactions] rows name balance-sheet rows, but there is no [balance_sheet]"
        )


def _read_matrix(kind: str, table, path: Path, text: str) -> Matrix:
    header = Where(str(path), _line_of(text, rf"^\s*\[{kind}\]", 0))
    if not isinstance(table, dict):
        raise ModelFileError(f"{header}: [{kind}] must be a table with columns = [...] and rows = [...]")
    unknown = set(table) - {"columns", "rows", "sectors"}
    if unknown:
        raise ModelFileError(f"{header}: unknown key(s) {', '.join(sorted(unknown))} in [{kind}]; use columns, rows")
    columns = table.get("columns")
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns):
        raise ModelFileError(f"{header}: [{kind}] columns must be a non-empty list of sector names")
    if len(set(columns)) != len(columns):
        raise ModelFileError(f"{header}: [{kind}] names a column twice")
    rows = table.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ModelFileError(f"{header}: [{kind}] rows must be a list of {{ name = ..., cells = [...] }}")
    parsed, names = [], set()
    for row in rows:
        parsed.append(_read_row(kind, row, columns, path, text, header))
        if parsed[-1].name in names:
            raise ModelFileError(f"{parsed[-1].where}: [{kind}] has two rows called {parsed[-1].name!r}")
        names.add(parsed[-1].name)
    sectors = tuple(_sector_of(column, table.get("sectors", {})) for column in columns)
    return Matrix(kind, tuple(columns), tuple(parsed), sectors, header)


def _read_row(kind, row, columns, path: Path, text: str, header: Where) -> MatrixRow:
    allowed = {"name", "cells"} | ({"total"} if kind == BALANCE_SHEET else {"change", "revaluation"})
    if not isinstance(row, dict) or not isinstance(row.get("name"), str):
        raise ModelFileError(f'{header}: each row of [{kind}] is {{ name = "...", cells = [...] }}')
    name = row["name"]
    where = Where(str(path), _line_of(text, r"name\s*=\s*" + re.escape(f'"{name}"'), header.line))
    unknown = set(row) - allowed
    if unknown:
        raise ModelFileError(
            f"{where}: row {name!r} has unknown key(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(allowed))}"
        )
    cells = row.get("cells")
    if not isinstance(cells, list) or len(cells) != len(columns) or not all(isinstance(c, str) for c in cells):
        raise ModelFileError(
            f"{where}: row {name!r} needs one cell per column ({len(columns)}: {', '.join(columns)}), as strings; "
            f'use "" for an empty cell'
        )
    expressions = tuple(
        parse_expression(cell, Where(str(path), where.line)) if cell.strip() else None for cell in cells
    )
    if "change" in row and "revaluation" in row:
        raise ModelFileError(f"{where}: row {name!r} cannot be both a change and a revaluation")
    total_text = row.get("total", "")
    total = parse_expression(total_text, where) if isinstance(total_text, str) and total_text.strip() else None
    return MatrixRow(
        name=name,
        cells=expressions,
        texts=tuple(cell.strip() for cell in cells),
        where=where,
        change=row.get("change"),
        revaluation=row.get("revaluation"),
        total=total,
        total_text=total_text.strip() if isinstance(total_text, str) else "",
    )


def _sector_of(column: str, mapping: dict) -> str:
    """The balance-sheet sector of a flow column: explicit mapping, else the part before ':'."""
    if column in mapping:
        return mapping[column]
    return column.split(":")[0].strip()


def _link(balance: Matrix, flows: Matrix) -> None:
    """Check that flow rows name real balance-sheet rows and every sector appears in both matrices."""
    names = {row.name for row in balance.rows}
    for row in flows.rows:
        target = row.change or row.revaluation
        if target is not None and target not in names:
            raise ModelFileError(
                f"{row.where}: flow row {row.name!r} refers to balance-sheet row {target!r}, which does not exist; "
                f"the balance-sheet rows are {', '.join(sorted(names))}"
            )
    missing = [sector for sector in flows.sectors if sector not in balance.columns]
    if missing:
        raise ModelFileError(
            f"{flows.where}: transactions column(s) for {', '.join(sorted(set(missing)))} match no balance-sheet "
            f"column ({', '.join(balance.columns)}); name a column like the sector, or "
            "'Sector: current'/'Sector: capital'"
        )
    unmatched = [column for column in balance.columns if column not in flows.sectors]
    if unmatched:
        raise ModelFileError(
            f"{balance.where}: balance-sheet column(s) {', '.join(unmatched)} have no transactions column; "
            "add one (it may be all empty cells)"
        )


def _line_of(text: str, pattern: str, after_line: int) -> int:
    """The first line (1-based) after ``after_line`` that matches ``pattern``; 0 if none."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after_line and re.search(pattern, line):
            return number
    return 0
