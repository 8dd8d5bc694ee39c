"""Back out DRYPOWDER's TR, lock and MBScb paths on the model, and check or write the experiment table.

Three paths of the baseline are set so that the model hits a fact exactly, quarter by quarter:

* transfers ``TR``: the model's deficit ``DEF`` equals the quarterly federal deficit;
* the consumption shifter ``lock``: the model's GDP ``Y`` equals quarterly GDP;
* the Fed's MBS and other assets ``MBScb``: the Fed's total assets at cost ``FEDA`` follow fed_total_assets.

A quarter's outcomes depend only on inputs up to that quarter, so TR and lock are solved one quarter at a time:
a Newton step on (TR, lock) with a finite-difference Jacobian, the base run and the two bumped runs in one batch
of the solver, repeated until the deficit and GDP are hit to ``TOLERANCE`` (and one step more). MBScb is then
moved by the gap between FEDA and its target in a run on those paths (FEDA moves one for one with MBScb), and
TR and lock are solved again on the new MBScb; that is the procedure that made the shipped table (one pass for
MBScb), so FEDA is on its target to within the small feedback of the second TR/lock solve (``--check`` prints it).

    python -m calibration.backout --check                  # rebuild (as shipped) and compare with drypowder.toml
    python -m calibration.backout --check --facts          # rebuild from the facts as they are
    python -m calibration.backout --write new.toml         # write drypowder.toml with the rebuilt [experiment]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import textwrap
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import drypowder
from drypowder import Shock
from drypowder.solve import SolverOptions, simulate

from .paths import DECIMALS, ORDER, PERIODS, QUARTERS, Baseline, build

ROOT = Path(__file__).resolve().parent.parent
MODEL_FILE = ROOT / "equations" / "drypowder" / "drypowder.toml"

TOLERANCE = 1e-6  # USD bn: the deficit and GDP are hit to this before the last Newton step
STEPS = {"TR": 10.0, "lock": 0.002}  # finite-difference bumps of the Jacobian
MAX_NEWTON = 12
# numba compiles the period loop (about 10x faster here); the numpy loop gives the same paths to the last digit
BACKEND = "numba" if importlib.util.find_spec("numba") is not None else "numpy"


def solver(backend: str = BACKEND) -> SolverOptions:
    return SolverOptions(backend=backend, max_iterations=300)


def shocks(paths: dict[str, np.ndarray]) -> list[Shock]:
    """The experiment's path shocks, from 2019Q2 (period 1), holding their last value."""
    return [Shock(name, 1, path=tuple(float(x) for x in paths[name]), kind="path", hold=True) for name in ORDER]


def shipped_paths(model_file: Path = MODEL_FILE) -> dict[str, np.ndarray]:
    """The paths of the experiment table in ``model_file``."""
    experiment = drypowder.load(model_file).spec.experiment
    return {shock.variable: np.array(shock.path, dtype=float) for shock in experiment.shocks}


def solve_fiscal(
    model, paths: dict[str, np.ndarray], deficit: np.ndarray, gdp: np.ndarray, backend: str = BACKEND
) -> None:
    """Back out TR and lock in ``paths`` (in place, not rounded) so that DEF and Y hit ``deficit`` and ``gdp``."""
    names, series = list(model.exogenous), model.compiled.series
    k_tr, k_lock = names.index("TR"), names.index("lock")
    i_def, i_y = series.index("DEF"), series.index("Y")
    params, exogenous, initial = model.inputs(PERIODS, shocks(paths))
    params3, initial3 = np.repeat(params, 3, axis=-1), np.repeat(initial, 3, axis=-1)
    exogenous[1, k_tr, 0], exogenous[1, k_lock, 0] = model.exogenous["TR"], model.exogenous["lock"]
    for t in range(1, PERIODS + 1):
        if t > 1:  # start from last quarter's values
            exogenous[t, [k_tr, k_lock], 0] = exogenous[t - 1, [k_tr, k_lock], 0]
        target = np.array([deficit[t - 1], gdp[t - 1]])
        for _ in range(MAX_NEWTON):
            batch = np.repeat(exogenous[: t + 1], 3, axis=-1)
            batch[t, k_tr, 1] += STEPS["TR"]
            batch[t, k_lock, 2] += STEPS["lock"]
            values = simulate(model.compiled, params3, batch, initial3, solver(backend))
            outcome = values[t, [i_def, i_y], :]  # (2, 3)
            residual = outcome[:, 0] - target
            jacobian = np.column_stack(
                [(outcome[:, 1] - outcome[:, 0]) / STEPS["TR"], (outcome[:, 2] - outcome[:, 0]) / STEPS["lock"]]
            )
            step = np.linalg.solve(jacobian, -residual)
            exogenous[t, k_tr, 0] += step[0]
            exogenous[t, k_lock, 0] += step[1]
            if np.all(np.abs(residual) < TOLERANCE):
                break
        else:
            raise RuntimeError(f"{QUARTERS[t]}: TR and lock did not hit the deficit and GDP in {MAX_NEWTON} steps")
    paths["TR"], paths["lock"] = exogenous[1:, k_tr, 0], exogenous[1:, k_lock, 0]


def run(model, paths: dict[str, np.ndarray], backend: str = BACKEND):
    """The baseline on ``paths`` (periods 0..31)."""
    return model.run(periods=PERIODS, shocks=shocks(paths), check_accounting=False, backend=backend)


@dataclass
class Calibration:
    """The rebuilt paths, and how far the last run on them is from the back-outs' targets."""

    paths: dict[str, np.ndarray]
    baseline: Baseline
    misses: dict[str, float]  # largest |model - target| in USD bn: DEF, Y, FEDA
    seconds: float


def calibrate(
    as_shipped: bool | Iterable[str] = False, model_file: Path = MODEL_FILE, backend: str = BACKEND
) -> Calibration:
    """Rebuild every path of the baseline: the paths from the facts, then the back-outs on the model."""
    start = time.perf_counter()
    baseline = build(as_shipped=as_shipped)
    model = drypowder.load(model_file)
    paths = {name: values.copy() for name, values in baseline.paths.items()}
    solve_fiscal(model, paths, baseline.deficit, baseline.gdp, backend)
    gap = run(model, paths, backend)["FEDA"].to_numpy()[1:] - baseline.fed_assets
    paths["MBScb"] = np.round(paths["MBScb"] - gap, DECIMALS["MBScb"])
    solve_fiscal(model, paths, baseline.deficit, baseline.gdp, backend)
    paths = {name: np.round(values, DECIMALS[name]) for name, values in paths.items()}
    final = run(model, paths, backend)
    misses = {
        name: float(np.abs(final[name].to_numpy()[1:] - target).max())
        for name, target in (("DEF", baseline.deficit), ("Y", baseline.gdp), ("FEDA", baseline.fed_assets))
    }
    return Calibration(paths, baseline, misses, time.perf_counter() - start)


@dataclass
class Difference:
    name: str
    largest: float  # largest |rebuilt - shipped|
    relative: float  # largest |rebuilt - shipped| / max(|shipped|, 1)
    quarter: str  # where the largest is
    units: float  # the largest in units of the last decimal the table keeps

    @property
    def reproduced(self) -> bool:
        """Equal to the rounding of the table: at most one unit of its last decimal apart."""
        return self.units <= 1.0 + 1e-9


def compare(rebuilt: dict[str, np.ndarray], shipped: dict[str, np.ndarray]) -> list[Difference]:
    out = []
    for name in ORDER:
        gap = np.abs(rebuilt[name] - shipped[name])
        i = int(gap.argmax())
        relative = float((gap / np.maximum(np.abs(shipped[name]), 1.0)).max())
        out.append(Difference(name, float(gap[i]), relative, QUARTERS[i + 1], float(gap[i] * 10 ** DECIMALS[name])))
    return out


def experiment_table(paths: dict[str, np.ndarray], notes: dict[str, str], description: str) -> str:
    """The ``[experiment]`` table of drypowder.toml for ``paths``, each path under its note."""
    lines = [
        "[experiment]",
        f'description = "{description}"',
        f"periods = {PERIODS}",
        "shocks = [",
        "  # Each path starts in 2019Q2 (period 1) and has one value a quarter to 2026Q4; stocks are end of quarter, "
        "flows a quarter.",
        "  # hold = true: a run longer than 2026Q4 keeps each path's last value (the policy, the Fed's balance sheet "
        "and spending stay where they ended).",
    ]
    for name in ORDER:
        lines += textwrap.wrap(f"{name}: {notes[name]}", 116, initial_indent="  # ", subsequent_indent="  #   ")
        values = [_number(x, DECIMALS[name]) for x in paths[name]]
        lines.append(f'  {{ variable = "{name}", start = "2019Q2", hold = true, path = [')
        lines += textwrap.wrap(", ".join(values), 110, initial_indent="    ", subsequent_indent="    ")
        lines.append("  ] },")
    lines.append("]")
    return "\n".join(lines) + "\n"


def _number(x: float, decimals: int) -> str:
    text = f"{round(float(x), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def model_file_text(paths: dict[str, np.ndarray], notes: dict[str, str], model_file: Path = MODEL_FILE) -> str:
    """``model_file`` with its ``[experiment]`` table replaced by one for ``paths``."""
    text = model_file.read_text()
    head, _, _ = text.partition("\n[experiment]\n")
    description = drypowder.load(model_file).spec.experiment.description
    return head + "\n" + experiment_table(paths, notes, description)


def report(calibration: Calibration, shipped: dict[str, np.ndarray]) -> list[Difference]:
    differences = compare(calibration.paths, shipped)
    print(f"{'path':8} {'largest |rebuilt - shipped|':>28} {'relative':>10} {'at':>7}  {'reproduced':>10}")
    for d in differences:
        flag = "yes" if d.reproduced else "NO"
        print(f"{d.name:8} {d.largest:28.3g} {d.relative:10.2g} {d.quarter:>7}  {flag:>10}")
    misses = ", ".join(f"{name} {miss:.2g}" for name, miss in calibration.misses.items())
    print(f"\nlargest miss of the back-outs' targets (USD bn): {misses}; {calibration.seconds:.1f} s")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calibration.backout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare the rebuilt paths with the shipped table")
    parser.add_argument("--write", metavar="PATH", help="write the model file with the rebuilt [experiment] to PATH")
    parser.add_argument(
        "--facts",
        action="store_true",
        help="use the facts as they are, not the rounded numbers the shipped table used (paths.AS_SHIPPED)",
    )
    parser.add_argument("--model", default=str(MODEL_FILE), help="the model file (default: the shipped drypowder.toml)")
    parser.add_argument(
        "--backend", choices=("numba", "numpy"), default=BACKEND, help=f"the solver's backend (default {BACKEND})"
    )
    args = parser.parse_args(argv)
    if not (args.check or args.write):
        parser.error("say --check, --write PATH or both")
    model_file = Path(args.model)
    if args.write and Path(args.write).resolve() in (MODEL_FILE.resolve(), model_file.resolve()):
        parser.error(f"refusing to overwrite {args.write}: write elsewhere, diff, then move it")
    calibration = calibrate(as_shipped=not args.facts, model_file=model_file, backend=args.backend)
    status = 0
    if args.check:
        print(f"rebuilt {'from the facts as they are' if args.facts else 'as shipped'}, compared with {model_file}\n")
        differences = report(calibration, shipped_paths(model_file))
        status = 0 if all(d.reproduced for d in differences) else 1
    if args.write:
        target = Path(args.write)
        target.write_text(model_file_text(calibration.paths, calibration.baseline.notes, model_file))
        print(f"wrote {target}")
    return status


if __name__ == "__main__":
    sys.exit(main())
