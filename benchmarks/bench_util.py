"""Shared pieces of the benchmark scripts: timing, tables, the machine, and models that may not exist yet.

Not part of drypowder and not a test; the scripts beside this file import it (``python benchmarks/X.py``
puts this folder first on ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable

import numpy as np


def best_of(function: Callable, repeat: int, budget: float = 20.0, min_total: float = 0.0):
    """(best seconds, last result, runs): at least ``repeat`` runs (one if they take longer than ``budget``
    in all), and more, up to 2,000, until ``min_total`` seconds are spent: sub-millisecond timings
    need many runs for their best to mean something on a shared machine."""
    times, result, spent = [], None, 0.0
    while True:
        result = None  # the previous run's result is freed here, not in the next timing (a sweep's: 30-50 ms)
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
        if spent > budget or len(times) >= 2000 or (len(times) >= max(1, repeat) and spent >= min_total):
            break
    return min(times), result, len(times)


def relative(ours, theirs) -> float:
    """Largest ``|a - b| / max(1, |b|)`` over every cell (the test suite's measure; absolute below 1)."""
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def seconds(value: float | None) -> str:
    """A duration in the unit that keeps three significant digits readable."""
    if value is None or not np.isfinite(value):
        return "-"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} us"


def ratio(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def table(headers: list[str], rows: list[list[str]], title: str | None = None) -> None:
    """Print a Markdown table (right-aligned columns but the first), ready to paste into a report."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}\n")
    print(
        "| " + " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))) + " |"
    )
    print("|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|")
    for row in cells:
        print(
            "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) + " |"
        )


def machine() -> str:
    """One line: CPU, cores, Python, numpy and numba versions, and the load when the run started."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = "absent"
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba_version}; {load_note()}"
    )


def load_note() -> str:
    """The 1-minute load average, with a warning when other work competes for the cores."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return "load average unknown"
    note = f"load average {load:.2f}"
    if load > 0.5:
        note += " (other processes are busy: timings will be noisier and slower than on a quiet machine)"
    return note


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def load_model(name: str):
    """``(model, None)`` or ``(None, reason)`` when the model is not shipped (yet) or does not load."""
    import drypowder
    from drypowder.errors import ModelError

    try:
        return drypowder.load(name), None
    except ModelError as error:
        first = str(error).splitlines()[0]
        if "no shipped model" in first:
            return None, f"not shipped yet (no model file named {name!r} in drypowder's equations)"
        return None, f"does not load: {first[:200]}"


def warm_up_numba() -> float:
    """Compile a trivial function so that numba's one-off start-up is not charged to the first model."""
    start = time.perf_counter()
    from numba import njit

    @njit
    def _add(a, b):
        return a + b

    _add(1.0, 2.0)
    return time.perf_counter() - start
