"""10,000 parameter draws of SIM in one pass against one run: wall times, ratio, peak memory, where the time goes.

    python benchmarks/batch.py [--model sim] [--draws 10000] [--periods 100] [--repeat 3]

Run on demand (never as a timed test). The batch is ``drypowder.sweep.run_sweep`` with every draw in
one chunk (``chunk = draws``: one vectorised pass, the accounting checked on every draw), varying
alpha1 in [0.55, 0.65] and theta in [0.15, 0.25], on each back end; "one run" is
``model.run(periods)`` on the same back end, the call a user makes for a single scenario (also
checked). Both are timed after compilation, best of ``--repeat``.

Where the time goes: the sweep runs once more with timers wrapped around its steps -- the draws and
the plan (``draw_values``, ``_plan``), the chunk's inputs (``_chunk_inputs``), the solve
(``simulate``; for numba split into the machine-code kernel and the packing around it), the
accounting check (``Accounting.check``) and the xarray Dataset (``_dataset``). Peak memory: the
process's peak resident size, and the peak of memory traced by ``tracemalloc`` during one sweep
(numpy reports its arrays to tracemalloc; run apart from the timed passes, because tracing slows them).
"""

from __future__ import annotations

import argparse
import functools
import time
import tracemalloc
from collections import defaultdict

import bench_util as bu

TARGET = 10  # the issue: the batch costs at most 10x one run


class Timers:
    """Wrap functions by (module, name) so that every call adds its seconds to a named bucket."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self._undo = []

    def wrap(self, owner, attribute: str, label: str) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        setattr(owner, attribute, timed)
        self._undo.append((owner, attribute, original))

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._undo):
            setattr(owner, attribute, original)
        self._undo.clear()


def breakdown(model, vary, draws: int, periods: int, backend: str) -> tuple[float, dict[str, float]]:
    """One sweep with timers around its steps: (wall seconds, {step: seconds})."""
    from drypowder import accounting, jit, sweep

    timers = Timers()
    timers.wrap(sweep, "draw_values", "draws")
    timers.wrap(sweep, "_plan", "plan (inputs at 0, 1, 3; spec pickled)")
    timers.wrap(sweep, "_chunk_inputs", "chunk inputs")
    timers.wrap(sweep, "simulate", "solve (simulate)")
    timers.wrap(accounting.Accounting, "check", "accounting check")
    timers.wrap(sweep, "_dataset", "xarray Dataset")
    original_kernel = jit.kernel

    def kernel(compiled):  # time the machine code itself, apart from the packing around it
        run = original_kernel(compiled)

        def timed_run(*args):
            start = time.perf_counter()
            try:
                return run(*args)
            finally:
                timers.seconds["  of which the numba kernel"] += time.perf_counter() - start

        return timed_run

    jit.kernel = kernel
    try:
        start = time.perf_counter()
        sweep.run_sweep(model, vary, draws=draws, periods=periods, chunk=draws, backend=backend)
        wall = time.perf_counter() - start
    finally:
        jit.kernel = original_kernel
        timers.restore()
    return wall, dict(timers.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sim")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="numba,numpy")
    args = parser.parse_args()

    print(f"batch.py: {args.model}, {args.draws:,} draws x {args.periods} periods in one pass, best of {args.repeat}")
    print(f"machine: {bu.machine()}")
    import drypowder
    from drypowder.sweep import Vary, run_sweep

    bu.warm_up_numba()
    model = drypowder.load(args.model)
    vary = [Vary("alpha1", 0.55, 0.65), Vary("theta", 0.15, 0.25)] if args.model == "sim" else None
    if vary is None:  # another model: vary its first two parameters by +-5%
        names = list(model.parameters)[:2]
        vary = [Vary(n, 0.95 * model.parameters[n], 1.05 * model.parameters[n]) for n in names]
    print("varied: " + ", ".join(f"{v.name} in [{v.low:g}, {v.high:g}]" for v in vary))

    rows, parts, verdicts = [], {}, []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        model.run(args.periods, backend=backend)  # compile (numba) and warm up
        run_sweep(model, vary, draws=min(args.draws, 100), periods=args.periods, backend=backend)
        one, single, _ = bu.best_of(
            lambda b=backend: model.run(args.periods, backend=b), max(args.repeat, 5), min_total=0.3
        )
        batch, dataset, _ = bu.best_of(
            lambda b=backend: run_sweep(
                model, vary, draws=args.draws, periods=args.periods, chunk=args.draws, backend=b
            ),
            args.repeat,
            budget=60,
        )
        # the numbers: draw 0 must equal the single run with draw 0's values
        twin = model.copy().set(**{v.name: float(dataset[f"input_{v.name}"][0]) for v in vary})
        check = twin.run(args.periods, backend=backend)
        same = bu.relative(
            dataset[model.spec.endogenous[0]].isel(draw=0).to_numpy(), check[model.spec.endogenous[0]].to_numpy()
        )
        for name in model.spec.endogenous:
            same = max(same, bu.relative(dataset[name].isel(draw=0).to_numpy(), check[name].to_numpy()))
        tracemalloc.start()
        run_sweep(model, vary, draws=args.draws, periods=args.periods, chunk=args.draws, backend=backend)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        wall, steps = breakdown(model, vary, args.draws, args.periods, backend)
        parts[backend] = (wall, steps)
        ratio = batch / one
        rows.append(
            [
                backend,
                bu.seconds(one),
                bu.seconds(batch),
                f"{ratio:,.0f}x",
                bu.seconds(batch / args.draws),
                f"{one * args.draws / batch:,.0f}x",
                f"{traced / 2**20:,.0f} MB",
                f"{same:.1e}",
            ]
        )
        verdicts.append((backend, ratio, one))

    bu.table(
        [
            "back end",
            "one run",
            f"{args.draws:,} draws",
            "batch / one run",
            "per draw",
            "speed-up vs a loop",
            "traced peak",
            "draw 0 vs its run",
        ],
        rows,
        f"One run against {args.draws:,} draws in one pass ({args.model}, {args.periods} periods; both checked)",
    )
    for backend, (wall, steps) in parts.items():
        total = sum(v for k, v in steps.items() if not k.startswith("  "))
        order = [
            "draws",
            "plan (inputs at 0, 1, 3; spec pickled)",
            "chunk inputs",
            "solve (simulate)",
            "  of which the numba kernel",
            "accounting check",
            "xarray Dataset",
        ]
        rows = [[step, bu.seconds(steps[step]), f"{100 * steps[step] / wall:.0f}%"] for step in order if step in steps]
        rows.append(
            [
                "other (run_sweep's own work: copies into the result array)",
                bu.seconds(max(wall - total, 0)),
                f"{100 * max(wall - total, 0) / wall:.0f}%",
            ]
        )
        rows.append(["whole sweep", bu.seconds(wall), "100%"])
        bu.table(["step", "seconds", "share"], rows, f"Where the time of one sweep goes ({backend} back end)")

    print(f"\nTarget of the issue: the batch costs at most {TARGET}x one run.")
    for backend, ratio, one in verdicts:
        state = "holds" if ratio <= TARGET else "does NOT hold"
        print(f"  {backend}: {state} ({ratio:,.0f}x; one run {bu.seconds(one)})")
    if len(verdicts) == 2:
        (b1, r1, o1), (b2, r2, o2) = verdicts
        best_batch = min(r1 * o1, r2 * o2)
        slow_one = max(o1, o2)
        print(
            f"  the fastest batch against the slower back end's one run: {best_batch / slow_one:,.0f}x "
            f"({bu.seconds(best_batch)} against {bu.seconds(slow_one)})"
        )
    print(f"\nend: {bu.load_note()}; peak resident memory of this process {bu.peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
