"""Whole processes: ``drypowder run sim --periods 100`` against the same run in a pysolve script; numba cold/warm.

    python benchmarks/startup.py [--repeat 5] [--periods 100] [--models sim,pc,lp]

Run on demand (never as a timed test). Every number here is the wall time of a fresh Python process
(``subprocess``, best and median of ``--repeat``, the commands taking turns), so it includes the
interpreter, the imports, reading the model file, compiling it and printing:

* ``drypowder run sim --periods 100`` with an empty numba cache folder (``auto`` then takes the numpy
  path: 100 periods are too few to pay for compiling) and with a warm one (the kernel cached by an
  earlier ``--backend numba`` run, so ``auto`` loads the machine code);
* a small pysolve script that builds SIM itself (pysolve 0.2.0, the book's equations) and solves 100
  periods with Newton-Raphson to the same 1e-13 stopping test, printing the same last row;
* for comparison, ``python -c pass`` and ``python -c "import drypowder"``, and the slowest imports of
  ``drypowder.cli`` (``python -X importtime``).

Then, per model, the numba compile time: a process with an empty ``DRYPOWDER_CACHE`` folder (cold:
drypowder compiles the model and numba its kernel, and both write their caches) and a second process
with the same folder (warm: both load; "load, warm" is the compiled model read from its cache, and
"numba warm" the kernel found and loaded, without sympy).
Each process first compiles a trivial function, so numba's one-off start-up (its typing and target
registries, and the ``scipy.linalg`` import they trigger: about a second) is shown in a column of its
own and not charged to the model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_util as bu
from peers import HORIZON

PYSOLVE_SIM = """
import numpy as np
from pysolve.model import Model

model = Model()
model.set_var_default(0)
model.var("Cd", desc="consumption goods demand by households")
model.var("Cs", desc="consumption goods supply")
model.var("Gs", desc="government goods, supply")
model.var("Hh", desc="cash money held by households")
model.var("Hs", desc="cash money supplied by the government")
model.var("Nd", desc="demand for labor")
model.var("Ns", desc="supply of labor")
model.var("Td", desc="taxes, demand")
model.var("Ts", desc="taxes, supply")
model.var("Y", desc="income = GDP")
model.var("YD", desc="disposable income of households")
model.param("Gd", desc="government goods, demand", default=20.)
model.param("W", desc="wage rate", default=1.)
model.param("alpha1", desc="propensity to consume out of income", default=0.6)
model.param("alpha2", desc="propensity to consume out of wealth", default=0.4)
model.param("theta", desc="tax rate", default=0.2)
model.add("Cs = Cd")
model.add("Gs = Gd")
model.add("Ts = Td")
model.add("Ns = Nd")
model.add("YD = (W*Ns) - Ts")
model.add("Td = theta * W * Ns")
model.add("Cd = alpha1*YD + alpha2*Hh(-1)")
model.add("Hs - Hs(-1) = Gd - Td")
model.add("Hh - Hh(-1) = YD - Cd")
model.add("Y = Cs + Gs")
model.add("Nd = Y/W")


def until(previous, current):
    return np.allclose(previous, current, rtol=1e-13, atol=1e-13)


for _ in range(PERIODS):
    model.solve(iterations=500, until=until, method="newton-raphson")
last = model.solutions[-1]
print(" ".join(f"{name}={last[name]:.6f}" for name in ("Y", "YD", "Cd", "Hh")))
"""

COMPILE = """
import json, sys, time
start = time.perf_counter()
import drypowder
imported = time.perf_counter()
from numba import njit


@njit
def _add(a, b):
    return a + b


_add(1.0, 2.0)  # numba's one-off start-up in a process (typing and target registries, scipy.linalg)
ready = time.perf_counter()
model = drypowder.load(sys.argv[1])
model.compiled
compiled = time.perf_counter()
model.run(int(sys.argv[2]), backend="numba", check_accounting=False)
first = time.perf_counter()
model.run(int(sys.argv[2]), backend="numba", check_accounting=False)
second = time.perf_counter()
print(json.dumps({"import": imported - start, "numba": ready - imported, "sympy": compiled - ready,
                  "first": first - compiled, "again": second - first}))
"""


def walls(commands: list[tuple[list[str], dict]], repeat: int) -> list[tuple[float, float, str]]:
    """(best, median) wall seconds of each ``(command, env)`` as a fresh process, and its last line of output.

    The commands take turns, round after round, so that a change in the machine's load during the
    script hits each of them alike, instead of all the runs of one command."""
    times: list[list[float]] = [[] for _ in commands]
    out = [""] * len(commands)
    for _ in range(repeat):
        for i, (command, env) in enumerate(commands):
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            times[i].append(time.perf_counter() - start)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
            out[i] = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return [(min(t), statistics.median(t), last) for t, last in zip(times, out)]


def drypowder_command() -> list[str]:
    script = Path(sys.executable).parent / "drypowder"
    if script.exists():
        return [str(script)]
    found = shutil.which("drypowder")
    return [found] if found else [sys.executable, "-c", "import sys; from drypowder.cli import main; sys.exit(main())"]


def slowest_imports(env: dict, count: int = 8) -> list[tuple[str, float]]:
    """The packages whose import takes longest under ``import drypowder.cli`` (cumulative, first import)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import drypowder.cli"], env=env, capture_output=True, text=True
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) < 3:
            continue
        try:
            cumulative = int(parts[1]) / 1e6
        except ValueError:
            continue
        root = parts[2].strip().split(".")[0]
        totals[root] = max(totals.get(root, 0.0), cumulative)
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--models", default="sim,pc,lp", help="models whose numba compile is timed cold and warm")
    args = parser.parse_args()
    print(f"startup.py: whole processes, best and median of {args.repeat}; {args.periods} periods")
    print(f"machine: {bu.machine()}")

    folders = []

    def fresh_env() -> dict:
        folder = tempfile.mkdtemp(prefix="drypowder-bench-cache-")
        folders.append(folder)
        return {**os.environ, "DRYPOWDER_CACHE": folder}

    try:
        cold_env = fresh_env()
        warm_env = fresh_env()
        run = [*drypowder_command(), "run", "sim", "--periods", str(args.periods)]
        subprocess.run([*run, "--backend", "numba"], env=warm_env, capture_output=True, check=True)  # fill its cache
        with tempfile.TemporaryDirectory(prefix="drypowder-bench-") as folder:
            script = Path(folder) / "pysolve_sim.py"
            script.write_text(PYSOLVE_SIM.replace("PERIODS", str(args.periods)))
            rows, best_of = [], {}
            processes = [
                ("python -c pass", [sys.executable, "-c", "pass"], cold_env),
                ('python -c "import drypowder"', [sys.executable, "-c", "import drypowder"], cold_env),
                ('python -c "import pysolve.model"', [sys.executable, "-c", "import pysolve.model"], cold_env),
                (f"drypowder run sim --periods {args.periods} (empty cache: numpy path)", run, cold_env),
                (f"drypowder run sim --periods {args.periods} (warm cache: numba)", run, warm_env),
                (f"drypowder run sim --periods {args.periods} --backend numpy", [*run, "--backend", "numpy"], cold_env),
                (f"pysolve script: SIM, {args.periods} periods, Newton", [sys.executable, str(script)], cold_env),
            ]
            timed = walls([(command, env) for _, command, env in processes], args.repeat)
            for (label, _, _), (best, median, last) in zip(processes, timed):
                best_of[label] = best
                rows.append([label, bu.seconds(best), bu.seconds(median), last[:60]])
            bu.table(["process", "best", "median", "last line printed"], rows, "Whole-process wall time")
            labels = list(best_of)
            pysolve = best_of[labels[-1]]
            for label in labels[3:6]:
                print(f"  {label}: {best_of[label] / pysolve:.2f}x the pysolve script's time")

        print(
            "\nSlowest imports under `import drypowder.cli` (cumulative, nested imports counted in their parents;"
            " python -X importtime, one process):"
        )
        for package, seconds in slowest_imports(cold_env):
            print(f"  {package:<14} {bu.seconds(seconds)}")

        rows = []
        for name in [n.strip() for n in args.models.split(",") if n.strip()]:
            env = fresh_env()
            results = []
            periods = min(args.periods, HORIZON.get(name, args.periods))
            for _ in range(2):  # the first process compiles into the empty folder, the second loads it
                done = subprocess.run(
                    [sys.executable, "-c", COMPILE, name, str(periods)], env=env, capture_output=True, text=True
                )
                if done.returncode != 0:
                    results = None
                    rows.append([name, "failed: " + done.stderr.strip().splitlines()[-1][:80], *[""] * 6])
                    break
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            if results:
                cold, warm = results
                rows.append(
                    [
                        name,
                        bu.seconds(cold["import"]),
                        bu.seconds(min(cold["numba"], warm["numba"])),
                        bu.seconds(cold["sympy"]),
                        bu.seconds(warm["sympy"]),
                        bu.seconds(cold["first"] - cold["again"]),
                        bu.seconds(warm["first"] - warm["again"]),
                        bu.seconds(warm["again"]),
                    ]
                )
        bu.table(
            [
                "model",
                "import drypowder",
                "numba start-up",
                "load + sympy compile",
                "load, warm (cache)",
                "numba cold",
                "numba warm",
                f"run ({args.periods} periods; drypowder: {HORIZON['drypowder']})",
            ],
            rows,
            "numba compile per model: a process with an empty cache folder (cold), then a second one (warm)",
        )
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\nend: {bu.load_note()}")


if __name__ == "__main__":
    main()
