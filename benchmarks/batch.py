"""Batches: 10,000 draws of SIM against one run, and the flagship's 10,000 Monte-Carlo draws against the clock.

    python benchmarks/batch.py [--model sim] [--draws 10000] [--periods 100] [--repeat 7]
    python benchmarks/batch.py --model drypowder [--draws 10000] [--workers 2] [--chunk 2000]

Run on demand (never as a timed test).

SIM (and any model but drypowder). The batch is ``drypowder.sweep.run_sweep`` with every draw in one
chunk (``chunk = draws``: one vectorised pass, the accounting checked on every draw), varying alpha1 in
[0.55, 0.65] and theta in [0.15, 0.25], on each back end. It is compared with two single runs: drypowder's
own ``model.run(periods)`` on the same back end (also checked), and pysolve's Newton on the same model
with the tight stopping test of ``peers.py`` (1e-13; its set-up excluded, as there). Both are timed
after compilation, best of ``--repeat`` (7: on this shared machine the best of 3 still varied by 1.7x
between runs, the batch's fresh memory and pysolve's interpreter alike). The issue asks for a batch of
at most 10x one run.

Where the time goes: the sweep runs once more with timers wrapped around its steps -- the draws and
the plan (``draw_values``, ``_plan``), the chunk's inputs (``_chunk_inputs``), the solve
(``simulate``; for numba split into the machine-code kernel and the packing around it), the
accounting check (``Accounting.check``) and the xarray Dataset (``_dataset``). Peak memory: the
process's peak resident size, and the peak of memory traced by ``tracemalloc`` during one sweep
(numpy reports its arrays to tracemalloc; run apart from the timed passes, because tracing slows them).

DRYPOWDER (``--model drypowder``), the issue's flagship target: 10,000 Monte-Carlo draws over the
model's 32 quarters (2019Q1, the initial state, and the experiment's 31 solved quarters) in under 60 s
on this 2-core machine, with peak memory under 2 GB. Six behavioural parameters are drawn uniformly
within +-10% of their calibrated values (``FLAGSHIP``). The sweep runs with ``on_failure="keep"``: a draw
that does not converge is named and left NaN, the others are kept. It runs once in this process (the
numba back end on every core's thread, with the step timers above and the process's peak resident memory) and, with
``--workers 2``, once on a Dask ``LocalCluster`` of 2 worker processes, timed with and without starting
the cluster (cold workers: each compiles the model, or loads it from numba's cache, on its first chunk;
the workers' peak memory is read from each worker), in chunks of draws / (4 x workers). The two results
must be identical.
"""

from __future__ import annotations

import argparse
import functools
import time
import tracemalloc
from collections import defaultdict

import bench_util as bu

TARGET = 10  # the issue: the batch costs at most 10x one run
FLAGSHIP_SECONDS, FLAGSHIP_MB = 60, 2048  # the issue: the flagship's 10,000 draws in under 60 s and 2 GB
FLAGSHIP = ("alpha2", "eta_ln", "kappa", "psi_rs", "beta_rep", "mu_fs")  # drawn within +-10% (see the docstring)


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


STEPS = [
    "draws",
    "plan (inputs at 0, 1, 3; spec pickled)",
    "chunk inputs",
    "solve (simulate)",
    "  of which the numba kernel (wall time)",
    "accounting check",
    "xarray Dataset",
]


def breakdown(model, vary, draws: int, periods: int, backend: str, **options) -> tuple[float, float, dict, object]:
    """One sweep with timers around its steps: (wall seconds, CPU seconds, {step: seconds}, the dataset)."""
    from drypowder import accounting, jit, sweep

    timers = Timers()
    timers.wrap(sweep, "draw_values", STEPS[0])
    timers.wrap(sweep, "_plan", STEPS[1])
    timers.wrap(sweep, "_chunk_inputs", STEPS[2])
    timers.wrap(sweep, "simulate", STEPS[3])
    timers.wrap(jit, "simulate_compiled_keeping", STEPS[3])  # on_failure="keep" calls the machine code itself
    timers.wrap(accounting.Accounting, "check", STEPS[5])
    timers.wrap(sweep, "_dataset", STEPS[6])
    original_kernel = jit.kernel

    spans = []  # (start, end) of each call of the machine code; threads run theirs at the same time

    def kernel(compiled):  # time the machine code itself, apart from the packing around it
        run = original_kernel(compiled)

        def timed_run(*args):
            start = time.perf_counter()
            try:
                return run(*args)
            finally:
                spans.append((start, time.perf_counter()))

        return timed_run

    jit.kernel = kernel
    options.setdefault("chunk", draws)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        dataset = sweep.run_sweep(model, vary, draws=draws, periods=periods, backend=backend, **options)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        jit.kernel = original_kernel
        timers.restore()
    steps = dict(timers.seconds)
    if spans:
        steps[STEPS[4]] = wall_time(spans)
    steps["calls of simulate"] = timers.calls[STEPS[3]]
    return wall, cpu, steps, dataset


def wall_time(spans: list[tuple[float, float]]) -> float:
    """The time covered by at least one of the (start, end) spans: threads' overlapping calls count once."""
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        covered += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return covered


def breakdown_table(wall: float, steps: dict, title: str) -> None:
    total = sum(v for k, v in steps.items() if k in STEPS and not k.startswith("  "))
    rows = [[step, bu.seconds(steps[step]), f"{100 * steps[step] / wall:.0f}%"] for step in STEPS if step in steps]
    rest = max(wall - total, 0)
    rows.append(
        ["other (run_sweep's own work: copies into the result array)", bu.seconds(rest), f"{100 * rest / wall:.0f}%"]
    )
    rows.append(["whole sweep", bu.seconds(wall), "100%"])
    bu.table(["step", "seconds", "share"], rows, title)


def pysolve_one_run(model, periods: int, repeat: int) -> tuple[float, float]:
    """pysolve's Newton on the same model and experiment, as ``peers.py`` runs it: (seconds, difference).

    The seconds are periods 2..T scaled to T periods (period 1 builds and lambdifies the pysolve model:
    set-up), best of ``repeat``; the difference is the largest relative one to drypowder's run.
    """
    import warnings

    from peers import pysolve_run

    best, frame = float("inf"), None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(max(1, repeat)):
            _, rest, frame = pysolve_run(model, periods)
            best = min(best, rest * periods / (periods - 1))
    ours = model.run(periods, backend="numpy")
    names = model.spec.endogenous
    return best, bu.relative(frame[names].to_numpy(), ours[names].to_numpy())


def flagship(args) -> None:
    """The flagship target: 10,000 Monte-Carlo draws of DRYPOWDER's 32 quarters in under 60 s and 2 GB."""

    import drypowder
    from drypowder.sweep import Vary

    bu.warm_up_numba()
    model = drypowder.load("drypowder")
    periods = args.periods or model.spec.experiment.periods
    vary = [Vary(n, 0.9 * model.parameters[n], 1.1 * model.parameters[n]) for n in FLAGSHIP]
    print(f"varied (uniform, +-10%): {', '.join(f'{v.name} in [{v.low:.4g}, {v.high:.4g}]' for v in vary)}")
    print(f"{len(model.spec.equations)} equations, {len(model.blocks)} blocks; {periods} solved quarters + period 0")
    start = time.perf_counter()
    model.run(periods, backend="numba")  # compile (or load the machine code from numba's cache)
    print(f"compile and first run: {bu.seconds(time.perf_counter() - start)}")
    one, _, _ = bu.best_of(lambda: model.run(periods, backend="numba"), 5, min_total=0.3)
    sweep_options = {"chunk": args.chunk, "on_failure": "keep"}
    breakdown(model, vary, min(args.draws, 200), periods, "numba", **sweep_options)  # warm up the sweep's path

    import warnings

    rows, results, cluster_run = [], {}, None
    if args.workers > 1:  # first, so that this process's peak memory so far is the cluster run's own
        cluster_run = on_cluster(model, vary, args.draws, periods, args.workers)
        results[f"Dask, {args.workers} workers"] = fingerprint(cluster_run.pop("dataset"))  # not kept: its memory
        rows.append(
            [
                f"Dask LocalCluster, {args.workers} workers",
                bu.seconds(cluster_run["wall"]),
                bu.seconds(cluster_run["start"] + cluster_run["wall"]),
                "-",
                f"{cluster_run['client MB']:,.0f} MB here + {cluster_run['worker MB']}",
                f"{cluster_run['failed']}",
            ]
        )
        print(f"on the cluster: {bu.load_note()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the failed draws are listed below
        wall, cpu, steps, dataset = breakdown(model, vary, args.draws, periods, "numba", **sweep_options)
    failed = int(dataset.attrs["failed"])
    results["this process"] = dataset
    peak = bu.peak_rss_mb()
    from drypowder.jit import thread_count

    here = f"this process ({thread_count(None, args.chunk, periods)} threads)"
    rows.append([here, bu.seconds(wall), "-", bu.seconds(cpu), f"{peak:,.0f} MB", f"{failed}"])
    print(f"in this process: {bu.load_note()}")
    bu.table(
        ["where", "sweep", "with cluster start", "CPU of this process", "peak resident memory", "failed draws"],
        rows,
        f"DRYPOWDER: {args.draws:,} draws x {periods} quarters (accounting checked, on_failure='keep'; in this "
        f"process chunks of {args.chunk:,}); one run {bu.seconds(one)}",
    )
    breakdown_table(
        wall, steps, f"Where the time of the in-process sweep goes ({steps['calls of simulate']} calls of simulate)"
    )
    if failed:
        print(f"\nDraws that did not solve ({failed}; NaN in the dataset, marked in 'failed'):")
        for line in dataset.attrs["failures"].splitlines()[:5]:
            print(f"  {line[:240]} ...")
    for label, other in results.items():
        if other is not dataset:
            same = other == fingerprint(dataset)
            print(f"{label}: results {'identical to' if same else 'DIFFER from'} the in-process sweep (bit for bit)")
    print(f"\nTarget of the issue: {args.draws:,} draws in under {FLAGSHIP_SECONDS} s, peak memory under 2 GB.")
    print(
        f"  in this process: {'holds' if wall < FLAGSHIP_SECONDS and peak < FLAGSHIP_MB else 'does NOT hold'} "
        f"({bu.seconds(wall)}, {peak:,.0f} MB)"
    )
    if cluster_run is not None:
        total = cluster_run["start"] + cluster_run["wall"]
        memory = cluster_run["client MB"] + cluster_run["workers MB"]
        fits = total < FLAGSHIP_SECONDS and memory < FLAGSHIP_MB
        print(
            f"  on {args.workers} workers, cluster start included, memory of all processes summed: "
            f"{'holds' if fits else 'does NOT hold'} ({bu.seconds(total)}; {memory:,.0f} MB)"
        )


def on_cluster(model, vary, draws: int, periods: int, workers: int) -> dict:
    """The flagship sweep on a fresh ``LocalCluster``: its start, the sweep (cold workers), peak memory."""
    import warnings

    from dask_scaling import start_cluster

    import drypowder.sweep

    begun = time.perf_counter()
    cluster, client = start_cluster(workers)
    try:
        started = time.perf_counter() - begun
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            dataset = drypowder.sweep.run_sweep(
                model,
                vary,
                draws=draws,
                periods=periods,
                backend="numba",
                scheduler=client,
                chunk=-(-draws // (4 * workers)),  # 4 chunks a worker, so that the last one idles less
                on_failure="keep",
            )
            wall = time.perf_counter() - start
        peaks = sorted(client.run(_worker_peak_mb).values())
    finally:
        client.close()
        cluster.close()
    return {
        "start": started,
        "wall": wall,
        "dataset": dataset,
        "failed": int(dataset.attrs["failed"]),
        "client MB": bu.peak_rss_mb(),
        "workers MB": sum(peaks),
        "worker MB": " + ".join(f"{p:,.0f}" for p in peaks) + " MB (workers)",
    }


def fingerprint(dataset) -> dict[str, str]:
    """SHA-256 of every data variable's bytes: equal fingerprints are bit-for-bit equal results (NaN too)."""
    import hashlib

    import numpy as np

    return {
        name: hashlib.sha256(np.ascontiguousarray(array.to_numpy()).tobytes()).hexdigest()
        for name, array in dataset.data_vars.items()
    }


def _worker_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="sim")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=None, help="default: 100; drypowder: its experiment's")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backends", default="numba,numpy")
    parser.add_argument("--threads", type=int, default=None, help="numba's threads for the batch (default: every core)")
    parser.add_argument("--chunk", type=int, default=2000, help="drypowder: draws per chunk")
    parser.add_argument("--workers", type=int, default=2, help="drypowder: also on a Dask cluster of N workers")
    parser.add_argument("--no-pysolve", action="store_true", help="skip the ratio to one pysolve run")
    args = parser.parse_args()

    print(f"batch.py: {args.model}, {args.draws:,} draws")
    print(f"machine: {bu.machine()}")
    if args.model == "drypowder":
        flagship(args)
        print(f"\nend: {bu.load_note()}; peak resident memory of this process {bu.peak_rss_mb():,.0f} MB")
        return
    args.periods = args.periods or 100
    import drypowder
    from drypowder.sweep import Vary, run_sweep

    bu.warm_up_numba()
    model = drypowder.load(args.model)
    vary = [Vary("alpha1", 0.55, 0.65), Vary("theta", 0.15, 0.25)] if args.model == "sim" else None
    if vary is None:  # another model: vary its first two parameters by +-5%
        names = list(model.parameters)[:2]
        vary = [Vary(n, 0.95 * model.parameters[n], 1.05 * model.parameters[n]) for n in names]
    print(
        f"{args.periods} periods, one pass; varied: " + ", ".join(f"{v.name} in [{v.low:g}, {v.high:g}]" for v in vary)
    )

    from drypowder.jit import available_cores, thread_count

    used = thread_count(args.threads, args.draws, args.periods)
    print(f"the numba batch runs on {used} thread(s) ({available_cores()} cores available); also on one, to compare")
    variants = []  # (label, back end, threads)
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        variants.append((backend, backend, args.threads))
        if backend == "numba" and used > 1:
            variants.append(("numba, 1 thread", backend, 1))
    rows, parts, verdicts = [], {}, []
    for label, backend, threads in variants:
        model.run(args.periods, backend=backend)  # compile (numba) and warm up
        run_sweep(model, vary, draws=min(args.draws, 100), periods=args.periods, backend=backend, threads=threads)
        one, single, _ = bu.best_of(
            lambda b=backend: model.run(args.periods, backend=b), max(args.repeat, 5), min_total=0.3
        )
        batch, dataset, _ = bu.best_of(
            lambda b=backend, n=threads: run_sweep(
                model, vary, draws=args.draws, periods=args.periods, chunk=args.draws, backend=b, threads=n
            ),
            args.repeat,
            budget=60,
        )
        # the numbers: draw 0 must equal the single run with draw 0's values
        twin = model.copy().set(**{v.name: float(dataset[f"input_{v.name}"][0]) for v in vary})
        check = twin.run(args.periods, backend=backend)
        same = max(bu.relative(dataset[n].isel(draw=0).to_numpy(), check[n].to_numpy()) for n in model.spec.endogenous)
        tracemalloc.start()
        options = {"chunk": args.draws, "backend": backend, "threads": threads}
        run_sweep(model, vary, draws=args.draws, periods=args.periods, **options)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        wall, _, steps, _ = breakdown(model, vary, args.draws, args.periods, backend, threads=threads)
        parts[label] = (wall, steps)
        ratio = batch / one
        rows.append(
            [
                label,
                bu.seconds(one),
                bu.seconds(batch),
                f"{ratio:,.0f}x",
                bu.seconds(batch / args.draws),
                f"{one * args.draws / batch:,.0f}x",
                f"{traced / 2**20:,.0f} MB",
                f"{same:.1e}",
            ]
        )
        verdicts.append((label, ratio, one, batch))

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
        breakdown_table(wall, steps, f"Where the time of one sweep goes ({backend} back end)")

    pysolve = None
    if not args.no_pysolve:
        try:
            pysolve, difference = pysolve_one_run(model, args.periods, args.repeat)
            print(
                f"\npysolve, one run of the same model (Newton, stop at 1e-13, set-up excluded): "
                f"{bu.seconds(pysolve)}; largest difference to drypowder {difference:.1e}"
            )
        except Exception as error:  # pysolve cannot take every model: say so, keep the rest
            print(f"\npysolve not measured: {type(error).__name__}: {str(error).splitlines()[0][:160]}")

    print(f"\nTarget of the issue: the batch costs at most {TARGET}x one run.")
    for backend, ratio, one, batch in verdicts:
        state = "holds" if ratio <= TARGET else "does NOT hold"
        line = f"  against one drypowder run ({backend}): {state} ({ratio:,.0f}x; one run {bu.seconds(one)})"
        print(line)
        if pysolve is not None:
            state = "holds" if batch <= TARGET * pysolve else "does NOT hold"
            print(
                f"  against one pysolve run, the {backend} batch: {state} ({batch / pysolve:,.1f}x; "
                f"{bu.seconds(batch)} against {bu.seconds(pysolve)})"
            )
    print(f"\nend: {bu.load_note()}; peak resident memory of this process {bu.peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
