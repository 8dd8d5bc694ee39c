"""A drypowder model run in R's sfcr (Macalós), when ``Rscript`` is on PATH and ``library(sfcr)`` loads.

UNTESTED HERE: the machine these benchmarks were written on has no R, so this path has never run. It is
written from sfcr 0.2.1's documentation (``sfcr_set``, ``sfcr_baseline``, ``sfcr_scenario``,
``sfcr_shock``), and ``peers.py`` always prints the largest difference of its result to drypowder's,
so a mistake in the translation shows as a large difference, never as a silent wrong number.

How a run maps onto sfcr. sfcr's row 1 is the starting state (our period 0). ``sfcr_baseline`` solves
2 rows with the exogenous values of period 0 (the models' default experiments start at rest, so row
2 equals row 1); ``sfcr_scenario`` then starts from that last row and solves ``periods + 1`` rows, each
shocked exogenous variable given as its whole path over rows 2..periods + 1. Only the scenario is
timed (``system.time`` inside R: no R start-up, no package loading). Method ``"Newton"``
(``rootSolve::multiroot``), ``tol = 1e-13``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sympy
from sympy.printing.str import StrPrinter


def available() -> tuple[bool, str]:
    """(True, version) if Rscript runs and loads sfcr; else (False, the reason)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False, "Rscript is not on PATH (install R and, in R, install.packages('sfcr'))"
    try:
        done = subprocess.run(
            [rscript, "-e", "suppressMessages(library(sfcr)); cat(as.character(packageVersion('sfcr')))"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"Rscript did not run ({error})"
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1][:120] if done.stderr.strip() else "no message"
        return False, f"library(sfcr) does not load ({last})"
    return True, f"sfcr {done.stdout.strip()}"


class _RPrinter(StrPrinter):
    def _print_Symbol(self, expr):
        from drypowder.parse import split_symbol

        name, lag = split_symbol(expr)
        return f"{name}[-{lag}]" if lag else name

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == sympy.Rational(1, 2):
            return f"sqrt({self._print(base)})"
        return f"(({self._print(base)})^({self._print(exponent)}))"

    def _print_Rational(self, expr):
        return f"({expr.p}/{expr.q})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_And(self, expr):
        return "(" + " && ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " || ".join(self._print(a) for a in expr.args) + ")"

    def _print_Piecewise(self, expr):
        (value, condition), (otherwise, _) = expr.args
        return f"(if ({self._print(condition)}) {self._print(value)} else {self._print(otherwise)})"


def _number(value: float) -> str:
    return repr(float(value))


def script(model, periods: int, csv: Path) -> str:
    """The R program: equations, externals, initial values, the scenario, its timing, a CSV of the run."""
    printer = _RPrinter()
    params, exogenous, initial = model.inputs(periods, list(model.spec.experiment.shocks))
    equations = ",\n  ".join(f"{e.name} ~ {printer.doprint(e.expression)}" for e in model.spec.equations)
    external = [f"{n} ~ {_number(params[i, 0])}" for i, n in enumerate(model.compiled.parameters)]
    external += [f"{n} ~ {_number(exogenous[0, i, 0])}" for i, n in enumerate(model.exogenous)]
    start = [f"{n} ~ {_number(initial[i, 0])}" for i, n in enumerate(model.spec.endogenous)]
    shocked = [
        f"{n} ~ c({', '.join(_number(v) for v in exogenous[1:, i, 0])})"
        for i, n in enumerate(model.exogenous)
        if np.any(exogenous[1:, i, 0] != exogenous[0, i, 0])
    ]
    shock = (
        f"list(sfcr_shock(variables = sfcr_set({', '.join(shocked)}), start = 2, end = {periods + 1}))"
        if shocked
        else "NULL"
    )
    return f"""suppressMessages(library(sfcr))
eqs <- sfcr_set(
  {equations}
)
ext <- sfcr_set({", ".join(external)})
init <- sfcr_set({", ".join(start)})
base <- sfcr_baseline(eqs, ext, periods = 2, initial = init, method = "Newton", tol = 1e-13)
elapsed <- system.time(run <- sfcr_scenario(base, scenario = {shock}, periods = {periods + 1},
                                            method = "Newton", tol = 1e-13))[["elapsed"]]
write.csv(as.data.frame(run), "{csv.as_posix()}", row.names = FALSE)
cat(sprintf("%.6f\\n", elapsed))
"""


def run(model, periods: int, timeout: float = 600) -> tuple[float, pd.DataFrame]:
    """(seconds of sfcr's scenario run, its values as a DataFrame indexed by period 0..periods)."""
    with tempfile.TemporaryDirectory(prefix="drypowder-sfcr-") as folder:
        csv = Path(folder) / "run.csv"
        program = Path(folder) / "run.R"
        program.write_text(script(model, periods, csv))
        done = subprocess.run([shutil.which("Rscript"), str(program)], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"sfcr failed: {done.stderr.strip()[-300:]}")
        elapsed = float(done.stdout.strip().splitlines()[-1])
        frame = pd.read_csv(csv)
    frame.index = range(len(frame))
    frame.index.name = "period"
    return elapsed, frame


def largest_difference(model, frame: pd.DataFrame, ours: pd.DataFrame) -> float:
    theirs = frame[model.spec.endogenous].to_numpy(dtype=float)
    mine = ours[model.spec.endogenous].to_numpy(dtype=float)[: len(theirs)]
    return float(np.max(np.abs(theirs - mine) / np.maximum(1.0, np.abs(mine))))
