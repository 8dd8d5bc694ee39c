"""Accounting that checks itself: every row and column of both matrices, and stocks against flows.

Three kinds of check, each relative to the gross size of what is summed (so a 1e-9 tolerance means the
same in a model of tens and one of trillions):

* rows: a balance-sheet row sums to its ``total`` (0 for financial assets: each is someone's liability);
  a flow row sums to 0 (every flow comes from somewhere and goes somewhere);
* columns: a sector's balance sheet sums to 0 with its net worth; its transactions sum to 0 (its budget);
* stock-flow: the change in each balance-sheet cell equals minus its flow-of-funds cell plus its
  revaluation cell.

``Accounting.check`` runs these on the values of a run; ``identities`` asks, before any run, which of
them the equations imply (and so finds the hidden equation).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from .errors import SolveError
from .evaluate import ExpressionEvaluator
from .matrices import BALANCE_SHEET, TRANSACTIONS, Matrix
from .parse import (
    split_symbol,
    sympy,  # imported on first use (parse._Deferred): a cached run never parses
)

TOLERANCE = 1e-9
ABSOLUTE_FLOOR = 1e-12


@dataclass(frozen=True)
class Sum:
    """One accounting identity: ``terms`` (cell positions with a sign) should add up to zero."""

    matrix: Matrix
    kind: str  # "row", "column" or "stock-flow"
    name: str
    terms: tuple[tuple[int, float, str], ...]  # (cell index, sign, label) ; labels name the cell
    first_period: int  # 0 for balance-sheet levels, 1 for anything with a flow or a change
    row: int | None = None
    column: int | None = None
    has_flows: bool = False  # a balance-sheet row that some flow row changes or revalues (an instrument)

    @property
    def label(self) -> str:
        what = {"row": "row", "column": "column", "stock-flow": "stocks and flows,"}[self.kind]
        return f"{self.matrix.title}, {what} {self.name!r}" if self.kind != "stock-flow" else f"{what} {self.name}"


@dataclass
class Imbalance:
    """The worst period of one check: the imbalance, the gross size, and each cell's value."""

    check: Sum
    period: int
    imbalance: float
    gross: float
    cells: list[tuple[str, float]]
    member: int = 0
    history: np.ndarray | None = None  # for a failure: the check's (sum, gross size) in every period so far

    @property
    def relative(self) -> float:
        return abs(self.imbalance) / self.gross if self.gross > 0 else (0.0 if self.imbalance == 0 else np.inf)


class AccountingReport:
    """The worst imbalance of every check over a run; ``failures`` are those above the tolerance.

    ``worst`` may be given as a function that builds the list: the machine-code check finds each
    check's worst period without the cells' values, and most runs only ask for the largest relative
    imbalance, so the per-cell detail is built on first use.
    """

    def __init__(self, worst, tolerance: float, failures: list[Imbalance] | None = None, largest: float | None = None):
        self._worst = worst
        self.tolerance = tolerance
        self.failures = [] if failures is None else failures
        self._largest = largest  # the largest relative imbalance, when known without ``worst``

    @property
    def worst(self) -> list[Imbalance]:
        if callable(self._worst):
            self._worst = self._worst()
        return self._worst

    @property
    def largest(self) -> Imbalance | None:
        return max(self.worst, key=lambda i: i.relative, default=None)

    @property
    def max_relative_imbalance(self) -> float:
        if self._largest is not None:
            return self._largest
        return self.largest.relative if self.worst else 0.0

    def message(self) -> str:
        """The first failure, said so that a user can find the cell: values, sizes, suspects."""
        failure = self.failures[0]
        check = failure.check
        cells = "; ".join(f"{label} = {value:.10g}" for label, value in failure.cells) or "no cells"
        member = f" (batch member {failure.member})" if failure.member else ""
        text = (
            f"{check.label} does not add up in period {failure.period}{member}: it is off by {failure.imbalance:.6g}, "
            f"{failure.relative:.2e} of its gross size {failure.gross:.6g} (tolerance {self.tolerance:g}). "
            f"Cells: {cells}."
        )
        suspects = _suspects(self.failures, failure)
        compounding = _compounding(failure)
        if compounding:
            text += f" {compounding}"
        elif suspects:
            text += f" {suspects}"
        elif check.kind == "stock-flow":
            text += (
                " The stock changed by a different amount than its flows and revaluations: check the change "
                "row's cell, the revaluation row, or the stock's equation."
            )
        else:
            text += f" A flow is missing from this {check.kind} or has the wrong sign."
        return text + " (Run 'drypowder check MODEL' for the full picture; run with check_accounting=False to explore.)"


def _size(cell: sympy.Expr) -> sympy.Expr:
    """The sum of the sizes of a cell's terms: d(Hh) = Hh - Hh(-1) counts the levels it differences.

    So rounding in a small change of a large stock is not an error. Abs is left unevaluated: |-x| and
    |2*x| come out exactly as |x| and 2*|x| would, and sympy's rewriting of them cost DRYPOWDER's cold
    load 0.12 s.
    """
    return sympy.Add(*[sympy.Abs(term, evaluate=False) for term in sympy.Add.make_args(sympy.expand(cell))])


#: columns (periods x batch members) up to which a product runs as a numpy loop while scipy.sparse is not
#: loaded: DRYPOWDER's 116 checks over 5,000 columns take 8 ms that way, against 3 ms in scipy after an
#: import of 0.2 s
NUMPY_PRODUCT_LIMIT = 5_000


class SparseWeights:
    """The checks' signed weights on the cells, as the arrays of a CSR matrix: ``indptr``, ``indices``,
    ``data``, each row's nonzeros in column order, as ``scipy.sparse.csr_matrix`` stores them.

    ``weights @ x`` adds each row's terms in that order, starting from zero, as scipy's compiled loop
    does, so the products are the same to the bit whichever runs them (tested). A small product runs as
    a numpy loop over each row's k-th term, so that a short run never imports scipy.sparse: 0.2 s, a
    third of a short ``drypowder run``. A batch, or any product once scipy.sparse is loaded, runs in
    scipy, 3-17x faster than the loop.
    """

    def __init__(self, shape: tuple[int, int], indptr: np.ndarray, indices: np.ndarray, data: np.ndarray):
        self.shape, self.indptr, self.indices, self.data = shape, indptr, indices, data
        self._scipy = None  # the scipy.sparse matrix, made on first use (not cached: see cache._SKIPPED)

    @classmethod
    def of(cls, dense: np.ndarray) -> SparseWeights:
        rows, columns = np.nonzero(dense)  # row by row, columns ascending
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=dense.shape[0]))])
        return cls(dense.shape, indptr.astype(np.int64), columns.astype(np.int64), dense[rows, columns].astype(float))

    def absolute(self) -> SparseWeights:
        """The same pattern with ``|weight|``: the gross sizes' weights."""
        return SparseWeights(self.shape, self.indptr, self.indices, np.abs(self.data))

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] > NUMPY_PRODUCT_LIMIT or "scipy.sparse" in sys.modules:
            return self.scipy_product(x)
        return self.loop_product(x)

    def scipy_product(self, x: np.ndarray) -> np.ndarray:
        if self._scipy is None:
            import scipy.sparse

            self._scipy = scipy.sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)
        return self._scipy @ x

    def loop_product(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((self.shape[0], x.shape[1]))
        counts = np.diff(self.indptr)
        for k in range(int(counts.max(initial=0))):
            rows = np.flatnonzero(counts > k)
            term = self.indptr[rows] + k
            out[rows] += self.data[term, None] * x[self.indices[term]]
        return out


class Accounting:
    """The model's matrices compiled once; ``check`` evaluates every identity on a run's values."""

    def __init__(self, matrices: dict[str, Matrix], series: list[str], parameters: list[str]):
        self.matrices = matrices
        self.positions: dict[tuple[str, int, int], int] = {}  # (kind, row, column) -> cell index
        expressions: list[sympy.Expr | None] = []
        for kind, matrix in matrices.items():
            for r, row in enumerate(matrix.rows):
                for c, cell in enumerate((*row.cells, row.total)):
                    self.positions[kind, r, c] = len(expressions)
                    expressions.append(cell)
        sizes = [None if e is None else _size(e) for e in expressions]
        self.evaluate_all = ExpressionEvaluator(expressions + sizes, series, parameters)
        self.sums = _sums(matrices, self.positions)
        self.cell_count = len(expressions)
        # Every check as one row of signed weights on the cells now and one period before, so that all
        # checks of all periods and batch members are two matrix products, not a Python loop.
        self._now = np.zeros((len(self.sums), self.cell_count))
        self._before = np.zeros((len(self.sums), self.cell_count))
        for i, check in enumerate(self.sums):
            for index, sign, _ in check.terms:
                if index >= 0:
                    self._now[i, index] += sign
                else:
                    self._before[i, -1 - index] += sign
        self._first = np.array([check.first_period for check in self.sums])
        self._unchecked = [(int(f), self._first == f) for f in np.unique(self._first[self._first > 0])]
        # The products run on sparse (CSR) copies: a dense ``@`` goes to BLAS, whose thread pool stalls 10-100x
        # when another process shares the cores, and each check reads only a few cells anyway.
        self._lagged = np.flatnonzero(self._before.any(axis=0))  # the cells read one period back
        self._now_sparse = SparseWeights.of(self._now)
        self._before_sparse = SparseWeights.of(self._before[:, self._lagged])
        self._now_gross, self._before_gross = self._now_sparse.absolute(), self._before_sparse.absolute()

    def add_up(self, cells: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every check's signed sum and gross size: ``[check, period, ...]`` each.

        Sparse products, so no BLAS call: a plain loop over each check's few cells, immune to the thread
        contention that made a dense product of PC's 500 periods take 40 ms instead of 0.2 ms on a busy
        machine (benchmarks/README.md).
        """
        shape = cells.shape[1:]
        total = self._now_sparse @ cells.reshape(self.cell_count, -1)
        gross = self._now_gross @ sizes.reshape(self.cell_count, -1)
        if len(self._lagged):
            for out, weights, values in ((total, self._before_sparse, cells), (gross, self._before_gross, sizes)):
                lagged = values[self._lagged]
                earlier = np.concatenate([lagged[:, :1], lagged[:, :-1]], axis=1)  # period 0 reads itself
                out += weights @ earlier.reshape(len(self._lagged), -1)
        return total.reshape(-1, *shape), gross.reshape(-1, *shape)

    def evaluate(self, values: np.ndarray, parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell values and cell sizes, ``[cell, period, ...]`` each."""
        both = self.evaluate_all(values, parameters)
        return both[: self.cell_count], both[self.cell_count :]

    def table(self, kind: str, values: np.ndarray, parameters: np.ndarray, period: int) -> np.ndarray:
        """One matrix's cell values in one period, ``[row, column]``, NaN where a cell is empty."""
        cells, _ = self.evaluate(values, parameters)
        matrix = self.matrices[kind]
        out = np.full((len(matrix.rows), len(matrix.columns)), np.nan)
        for r, row in enumerate(matrix.rows):
            for c, cell in enumerate(row.cells):
                if cell is not None:
                    out[r, c] = cells[self.positions[kind, r, c], period]
        return out

    def net_lending(self, values: np.ndarray, parameters: np.ndarray) -> dict[str, np.ndarray]:
        """Each sector's net lending per period: its transactions other than flows of funds.

        Equal to minus its net acquisition of financial assets; across sectors they sum to zero.
        """
        flows = self.matrices[TRANSACTIONS]
        cells, _ = self.evaluate(values, parameters)
        out = {}
        for sector in dict.fromkeys(flows.sectors):
            total = np.zeros(cells.shape[1:])
            for r, row in enumerate(flows.rows):
                if row.is_transaction and row.change is None:
                    for c, cell in enumerate(row.cells):
                        if cell is not None and flows.sectors[c] == sector:
                            total = total + cells[self.positions[TRANSACTIONS, r, c]]
            out[sector] = total
        return out

    def payments(self, values: np.ndarray, parameters: np.ndarray, period: int) -> list[tuple[str, str, str, float]]:
        """One period's transactions as (row, payer, receiver, amount), for a Sankey diagram.

        Within a row, each paying sector's payment is split over the receiving sectors in proportion
        to what they receive; payments within one sector (between its accounts) are left out.
        """
        flows = self.matrices[TRANSACTIONS]
        cells, _ = self.evaluate(values, parameters)
        out = []
        for r, row in enumerate(flows.rows):
            if not row.is_transaction or row.change is not None:
                continue
            by_sector: dict[str, float] = {}
            for c, cell in enumerate(row.cells):
                if cell is not None:
                    value = float(cells[self.positions[TRANSACTIONS, r, c], period])
                    by_sector[flows.sectors[c]] = by_sector.get(flows.sectors[c], 0.0) + value
            payers = {s: -v for s, v in by_sector.items() if v < 0}
            receivers = {s: v for s, v in by_sector.items() if v > 0}
            received = sum(receivers.values())
            for payer, paid in payers.items():
                for receiver, got in receivers.items():
                    if payer != receiver and received > 0:
                        out.append((row.name, payer, receiver, paid * got / received))
        return out

    def check(
        self,
        values: np.ndarray,
        parameters: np.ndarray,
        tolerance: float = TOLERANCE,
        skip: np.ndarray | None = None,
        threads: int | None = None,
    ) -> AccountingReport:
        """Every identity in every period; values are ``[period, series]`` or ``[period, series, batch]``.

        ``skip``: a boolean mask of batch members left out (a sweep's draws that could not be solved).
        ``threads``: how many threads share a batch in machine code (None: every core this process may use).

        Once numba is loaded (a run in machine code loads it), the check runs as a register program in
        machine code (``drypowder.machine_check``); if anything fails there, the numpy check below runs
        again to explain it. Both give the same numbers.

        A batch is checked a slice of members at a time (``members_per_slice``): every cell of every
        period of a member is evaluated twice (value and size), so a whole sweep chunk at once held
        gigabytes of temporaries (DRYPOWDER: 606 cells). Each check keeps its worst (period, member) and
        its first failure over the slices, with the ties broken as in one pass over the whole batch (the
        earliest period, then the lowest member), so the report does not depend on the slicing.
        """
        if values.ndim == 2:
            values, parameters = values[:, :, None], parameters[..., None]
        if COMPILED and "numba" in sys.modules:
            report = self._check_in_machine_code(values, parameters, tolerance, skip, threads)
            if report is not None:
                return report
        members = values.shape[2]
        step = self.members_per_slice(values.shape[0])
        worst: list[tuple[float, int, int, Imbalance] | None] = [None] * len(self.sums)
        first: list[Imbalance | None] = [None] * len(self.sums)
        for start in range(0, members, step):
            part = slice(start, min(start + step, members))
            left_out = None if skip is None else skip[part]
            self._check_slice(values[..., part], parameters[..., part], tolerance, start, worst, first, left_out)
        kept = [i for i, check in enumerate(self.sums) if values.shape[0] > check.first_period]
        failures = sorted((first[i] for i in kept if first[i] is not None), key=lambda i: (i.period, -i.relative))
        return AccountingReport([worst[i][3] for i in kept], tolerance, failures)

    def _check_in_machine_code(self, values, parameters, tolerance, skip, threads) -> AccountingReport | None:
        """``check`` in machine code; None if anything fails or the cells cannot run there (the numpy check then
        says what and where). The report's cell detail is built only when asked for."""
        from . import machine_check

        found = machine_check.check(self, values, parameters, tolerance, ABSOLUTE_FLOOR, skip, threads)
        if found is None:
            return None
        largest, _, worst_at, worst_total, worst_gross = found
        periods, members = values.shape[0], values.shape[2]

        def worst() -> list[Imbalance]:
            out = []
            for i in np.flatnonzero(self._first < periods).tolist():  # one period has no flows to check
                period, member = divmod(int(worst_at[i]), members)
                cells = self._cells_of(self.sums[i], values, parameters, period, member)
                out.append(Imbalance(self.sums[i], period, float(worst_total[i]), float(worst_gross[i]), cells, member))
            return out

        return AccountingReport(worst, tolerance, [], largest)

    def _cells_of(self, check: Sum, values, parameters, period: int, member: int) -> list[tuple[str, float]]:
        """``check``'s signed cells in one period of one member, evaluated from the few periods they read."""
        start = max(0, period - 1 - self.evaluate_all.lag)
        window = values[start : period + 1, :, member : member + 1]
        if parameters.ndim == values.ndim:  # parameters that change over time
            parameters = parameters[start : period + 1]
        cells, _ = self.evaluate(window, parameters[..., member : member + 1])
        return _signed_cells(check, cells, period - start, 0)

    #: bytes of cell values and sizes evaluated at once (a slice of batch members; see ``check``)
    SLICE_BYTES = 48 * 2**20

    def members_per_slice(self, periods: int) -> int:
        """Batch members per slice: about ``SLICE_BYTES`` of cell values and sizes (a single run: one slice)."""
        return max(1, self.SLICE_BYTES // (2 * self.cell_count * periods * 8))

    def _check_slice(self, values, parameters, tolerance, offset: int, worst: list, first: list, skip=None) -> None:
        """``check`` on batch members ``offset ..``: update each check's worst and first failure in place."""
        cells, sizes = self.evaluate(values, parameters)
        members = cells.shape[2]
        total, gross, worst_value, worst_at, first_bad = self._scan(cells, sizes, tolerance, skip)
        worst_value, first_bad = worst_value.tolist(), first_bad.tolist()
        for i, (check, at, value) in enumerate(zip(self.sums, worst_at.tolist(), worst_value)):
            if total.shape[1] <= check.first_period:
                continue
            period, member = divmod(at, members)
            best = worst[i]
            if best is None or value > best[0] or (value == best[0] and period < best[1]):
                found = _imbalance(check, cells, total[i], gross[i], period, member)
                found.member = offset + member
                worst[i] = (value, period, offset + member, found)
            if first_bad[i] >= 0:
                period, member = divmod(first_bad[i], members)
                if first[i] is None or period < first[i].period:
                    failure = _imbalance(check, cells, total[i], gross[i], period, member)
                    failure.member = offset + member
                    failure.history = np.stack([total[i, : period + 1, member], gross[i, : period + 1, member]])
                    first[i] = failure

    def _scan(self, cells, sizes, tolerance, skip):
        """The check's arithmetic with numpy: (total, gross, worst relative, where, first failure or -1) per check.

        The same numbers as ``drypowder.machine_check``, which runs the whole check in machine code.
        """
        total, gross = self.add_up(cells, sizes)
        if skip is not None:
            total[..., skip], gross[..., skip] = 0.0, 0.0  # add up to nothing, exactly
        for later, rows in self._unchecked:  # levels are checked from period 0, flows from period 1
            total[rows, :later], gross[rows, :later] = 0.0, 0.0
        size = np.abs(total)
        with np.errstate(all="ignore"):
            relative = size / gross
        undefined = np.isnan(relative)  # 0 / 0 is 0; off by anything with no size to compare with, or NaN: infinite
        relative[undefined] = np.where(total[undefined] == 0, 0.0, np.inf)
        flat = relative.reshape(len(self.sums), -1)
        worst_at = flat.argmax(axis=1)
        bad = size <= tolerance * gross + ABSOLUTE_FLOOR
        np.logical_not(bad, out=bad)
        bad = bad.reshape(len(self.sums), -1)
        first_bad = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
        return total, gross, flat[np.arange(len(self.sums)), worst_at], worst_at, first_bad


#: check in machine code once numba is loaded (tests switch it off to compare the two)
COMPILED = True


def _sums(matrices: dict[str, Matrix], positions) -> list[Sum]:
    sums = []
    flows = matrices.get(TRANSACTIONS)
    linked = {row.change or row.revaluation for row in flows.rows} if flows else set()
    for kind, matrix in matrices.items():
        first = 0 if kind == BALANCE_SHEET else 1
        width = len(matrix.columns)
        for r, row in enumerate(matrix.rows):
            terms = [(positions[kind, r, c], 1.0, matrix.columns[c]) for c in range(width) if row.cells[c] is not None]
            if row.total is not None:
                terms.append((positions[kind, r, width], -1.0, "total"))
            has_flows = kind == BALANCE_SHEET and row.name in linked
            sums.append(Sum(matrix, "row", row.name, tuple(terms), first, row=r, has_flows=has_flows))
        for c, column in enumerate(matrix.columns):
            terms = tuple(
                (positions[kind, r, c], 1.0, row.name)
                for r, row in enumerate(matrix.rows)
                if row.cells[c] is not None and row.is_transaction
            )
            sums.append(Sum(matrix, "column", column, terms, first, column=c))
    if BALANCE_SHEET in matrices and TRANSACTIONS in matrices:
        sums.extend(_stock_flow_sums(matrices[BALANCE_SHEET], matrices[TRANSACTIONS], positions))
    return sums


def _stock_flow_sums(balance: Matrix, flows: Matrix, positions) -> list[Sum]:
    """Change of each balance-sheet cell = -(change-row cells) + (revaluation-row cells) of that sector.

    The balance-sheet cell enters twice: now (sign +1) and last period (marked with a negative index,
    read one period back).
    """
    sums = []
    for r, row in enumerate(balance.rows):
        linked = [(f, flow) for f, flow in enumerate(flows.rows) if row.name in (flow.change, flow.revaluation)]
        if not linked:
            continue
        for c, sector in enumerate(balance.columns):
            cell = positions[BALANCE_SHEET, r, c]
            terms = []
            if row.cells[c] is not None:
                terms += [(cell, 1.0, f"{sector} {row.name} now"), (-1 - cell, -1.0, f"{sector} {row.name} before")]
            for f, flow in linked:
                for j, flow_sector in enumerate(flows.sectors):
                    if flow_sector == sector and flow.cells[j] is not None:
                        sign = 1.0 if flow.change else -1.0  # uses of funds are negative in the flow matrix
                        terms.append((positions[TRANSACTIONS, f, j], sign, f"{flow.name} ({flows.columns[j]})"))
            if terms:
                sums.append(Sum(balance, "stock-flow", f"{row.name!r} of {sector}", tuple(terms), 1))
    return sums


def _read(cells: np.ndarray, index: int, period: int, member: int) -> float:
    """A cell's value; a negative index -1 - i means cell i one period earlier (period 0 reads itself)."""
    if index >= 0:
        return float(cells[index, period, member])
    return float(cells[-1 - index, max(period - 1, 0), member])


def _signed_cells(check: Sum, cells, period: int, member: int) -> list[tuple[str, float]]:
    """Each cell of ``check`` in one period, with its sign in the sum, labelled."""
    return [(label, _read(cells, index, period, member) * sign) for index, sign, label in check.terms]


def _imbalance(check: Sum, cells, total, gross, period: int, member: int) -> Imbalance:
    """One check in one period: its imbalance, gross size and each cell's signed value."""
    values = _signed_cells(check, cells, period, member)
    return Imbalance(check, period, float(total[period, member]), float(gross[period, member]), values, member)


def _compounding(failure: Imbalance, window: int = 20) -> str:
    """Explain a gap that held to rounding error and then grew by a steady factor: nothing is missing.

    Where the hidden equation's gap earns a return inside the model (BMW: deposits held but not issued
    earn interest, so Mh - Ms grows by 1 + rl a period), rounding error compounds until it crosses the
    tolerance, however well every period was solved.
    """
    if failure.history is None or failure.check.kind != "row":
        return ""
    total, gross = np.abs(failure.history[0]), failure.history[1]
    failed = len(total) - 1
    relative = total / np.maximum(gross, np.finfo(float).tiny)
    if failed < window + 1 or relative[: failed - window].min() > 1e-13:
        return ""  # it never held to rounding error: a genuine error
    recent = total[failed - window :]
    if np.any(recent == 0):
        return ""
    steps = np.log(recent[1:] / recent[:-1])
    factor = float(np.exp(steps.mean()))
    if not (factor > 1.001 and steps.std() < 0.01):
        return ""
    clean = int(np.flatnonzero(relative[:failed] <= 1e-13)[-1])
    return (
        f"This is not a missing flow: the gap held to rounding error until period {clean} and has grown since by "
        f"a steady factor {factor:.4f} a period -- rounding error compounding, because the gap earns a return "
        "inside the model (in Godley & Lavoie's BMW, deposits held but not issued earn interest, so Mh - Ms "
        f"grows by 1 + rl a period). Every period was solved to rounding error; the run is sound up to about "
        f"period {failed - 1}. Shorten the run, or pass a larger accounting tolerance (--accounting-tol) to "
        "accept the gap."
    )


def _suspects(failures: list[Imbalance], failure: Imbalance) -> str:
    """Where a failing row meets a failing column of the same matrix and period, name that cell."""
    check = failure.check
    if check.kind not in ("row", "column"):
        return ""
    same = [f for f in failures if f.check.matrix is check.matrix and f.period == failure.period]
    rows = [f for f in same if f.check.kind == "row"]
    columns = [f for f in same if f.check.kind == "column"]
    hints = []
    for row_failure in rows:
        for column_failure in columns:
            r, c = row_failure.check.row, column_failure.check.column
            matrix_row = check.matrix.rows[r]
            cell = matrix_row.texts[c]
            where = f"cell ({matrix_row.name!r}, {check.matrix.columns[c]!r})"
            off = row_failure.imbalance
            if cell and np.isclose(off, column_failure.imbalance, rtol=1e-6, atol=0):
                value = dict(row_failure.cells).get(check.matrix.columns[c])
                if value is not None and np.isclose(off, 2 * value, rtol=1e-6, atol=0):
                    hints.append(f"{where}, written {cell!r}, looks like it has the wrong sign")
                else:
                    hints.append(f"{where}, written {cell!r}, is off by {off:.6g}")
            elif np.isclose(off, column_failure.imbalance, rtol=1e-6, atol=0):
                hints.append(
                    f"{where} is empty but both its row and column are short by {-off:.6g}: a flow is missing there"
                )
    if not hints:
        return ""
    return "Suspect: " + "; ".join(hints) + "."


# --- before any run: which identities do the equations imply? -------------------------------------------


@dataclass(frozen=True)
class IdentityStatus:
    """How one check relates to the equations: 'identity', 'stock identity' or 'fails'."""

    check: Sum
    status: str
    equation: str = ""  # for a stock identity: the implied equation, e.g. 'Hh = Hs'
    expression: sympy.Expr | None = None  # its left side minus its right side
    residuals: np.ndarray | None = None  # a stock identity's imbalance in each scrambled draw
    integrates: str | None = None  # a stock identity that is this equation summed over time (not left out)


def hidden_equations(statuses: list[IdentityStatus]) -> list[IdentityStatus]:
    """The model's hidden equation(s): the balance-sheet rows that hold only through history.

    A row (an instrument held = the instrument issued: Hh = Hs) is the redundant equation in the
    book's sense; a sector's column that needs history too (V = Bs) follows from it and from the
    sectors' budget constraints, so columns are reported only if no row is. One per distinct equation.
    """
    stock = [s for s in statuses if s.status == "stock identity"]
    rows = [s for s in stock if s.check.kind == "row"]
    # An instrument (a row that flows of funds change) held = issued is the book's redundant equation;
    # the net-worth row has no flows of its own and restates the rows and columns around it.
    instruments = [s for s in rows if s.check.has_flows and s.integrates is None]
    chosen = instruments or rows or stock
    unique: list[IdentityStatus] = []
    for status in chosen:
        if not any(_same_equation(status, u) for u in unique):
            unique.append(status)
    return unique


def _same_equation(a: IdentityStatus, b: IdentityStatus) -> bool:
    """The same equation, up to sign, as written or given the period's equations.

    Two stock identities that the period's equations map onto each other (DIS: IN = Mh is Mh = Ms once
    Ms = Ls = IN) carry proportional imbalances in every scrambled draw.
    """
    if sympy.expand(a.expression - b.expression) == 0 or sympy.expand(a.expression + b.expression) == 0:
        return True
    if a.residuals is None or b.residuals is None:
        return False
    scale = np.linalg.norm(a.residuals) * np.linalg.norm(b.residuals)
    return bool(scale > 0 and abs(abs(a.residuals @ b.residuals) / scale - 1) < 1e-8)


def identities(model, draws: int = 4, seed: int = 0) -> list[IdentityStatus]:
    """Which checks the equations imply, found without a full run, in two one- or two-period tests.

    1. From the model's own (consistent) starting state, with its exogenous values from period 1 on
       jittered by +-10% across ``draws`` batch members, solve two periods: a check that fails there does
       not follow from the equations.
    2. From random starting states, solve one period: a balance-sheet check that holds anyway is implied
       by the period's equations alone (an identity); one that only held in test 1 holds because it
       held in the previous period -- a stock identity, which is where the model's hidden (redundant)
       equation lives.
    """
    accounting = model.accounting
    if accounting is None:
        return []
    rng = np.random.default_rng(seed)
    params, exogenous, initial = model.inputs(2, list(model.spec.experiment.shocks))
    jitter = 1 + 0.2 * (rng.random((1, exogenous.shape[1], draws)) - 0.5)
    jitter = np.concatenate([np.ones_like(jitter), np.repeat(jitter, 2, axis=0)])  # period 0 is the given state
    consistent = _solve_draws(model, params, exogenous * jitter, np.repeat(initial, draws, axis=1), draws)
    scale = float(np.mean(np.abs(initial[initial != 0]))) if np.any(initial != 0) else 1.0
    scrambled = None
    for spread in (0.2, 0.02):  # random starting states; a smaller spread if a nonlinear model will not solve
        noise = 1 + spread * (rng.random((initial.shape[0], draws)) - 0.5)
        start = np.where(initial != 0, initial * noise, scale * spread * rng.random((initial.shape[0], draws)))
        scrambled = _solve_draws(model, params, exogenous[:2], start, draws)
        if scrambled is not None:
            break
    holds_consistent, _ = _holds(accounting, consistent, slice(1, None))
    holds_scrambled, scrambled_totals = _holds(accounting, scrambled, slice(1, 2))
    out = []
    for i, check in enumerate(accounting.sums):
        if holds_consistent is not None and not holds_consistent[i]:
            out.append(IdentityStatus(check, "fails"))
        elif check.first_period == 0 and holds_scrambled is not None and not holds_scrambled[i]:
            text, expression = _as_equation(check)
            residuals = scrambled_totals[i, 1].ravel()
            integrates = _integrated_equation(expression, model.spec.equations)
            out.append(IdentityStatus(check, "stock identity", text, expression, residuals, integrates))
        else:
            out.append(IdentityStatus(check, "identity"))
    return out


def _integrated_equation(expression: sympy.Expr, equations) -> str | None:
    """The equation whose first difference this identity is (BMW: Ls = Ld is 7.4, Ls = Ls(-1) + d(Ld))."""
    back = {s: sympy.Symbol(f"{name}(-{lag + 1})") for s in expression.free_symbols for name, lag in [split_symbol(s)]}
    change = sympy.expand(expression - expression.xreplace(back))
    for equation in equations:
        written = sympy.expand(sympy.Symbol(equation.name) - equation.expression)
        if sympy.expand(change - written) == 0 or sympy.expand(change + written) == 0:
            return equation.name
    return None


def _solve_draws(model, params, exogenous, initial, draws):
    """(values, parameters) of a short batch run, or None if it cannot be solved."""
    from .solve import simulate

    parameters = np.repeat(params, draws, axis=1)
    try:
        values = simulate(
            model.compiled, parameters, np.broadcast_to(exogenous, exogenous.shape[:2] + (draws,)), initial
        )
    except SolveError:
        return None
    return values, parameters


def _holds(accounting: Accounting, run, periods: slice) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per check: does it hold in ``periods`` of every draw of ``run``? And the sums themselves."""
    if run is None:
        return None, None
    cells, sizes = accounting.evaluate(*run)
    total, gross = accounting.add_up(cells, sizes)
    ok = (np.abs(total) <= 1e-8 * gross + ABSOLUTE_FLOOR)[:, periods]
    return ok.reshape(len(accounting.sums), -1).all(axis=1), total


def _as_equation(check: Sum) -> tuple[str, sympy.Expr]:
    """'Hh = Hs' (and Hh - Hs) from a balance-sheet row or column whose cells are +Hh and -Hs."""
    matrix = check.matrix
    left, right = [], []
    for r, row in enumerate(matrix.rows):
        for c in range(len(matrix.columns) + 1):
            if (check.row is not None and r != check.row) or (check.column is not None and c != check.column):
                continue
            cell = (*row.cells, row.total)[c]
            if cell is None:
                continue
            if c == len(matrix.columns):
                cell = -cell
            (right if cell.could_extract_minus_sign() else left).append(
                -cell if cell.could_extract_minus_sign() else cell
            )
    left_side, right_side = sympy.Add(*left), sympy.Add(*right)
    return f"{left_side} = {right_side}", left_side - right_side
