"""The ``drypowder`` command: one verb per task, the same exit codes everywhere.

Exit codes: 0 success, 2 bad input (model file, scenario, usage), 3 solve failure, 4 accounting failure.
Errors go to stderr; the first line starts with ``error:``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import warnings

import numpy as np

from .accounting import hidden_equations, identities
from .display import FORMATS, render
from .errors import AccountingError, DrypowderError, ModelError
from .model import Model, load
from .scenario import compare, read_scenario, run_scenario
from .shipped import shipped_models, shipped_scenarios
from .solve import BACKENDS, METHODS


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.command(args)
    except DrypowderError as exc:
        _report(exc)
        return exc.exit_code
    except BrokenPipeError:  # e.g. 'drypowder run sim | head'
        return 0
    except OSError as exc:  # a file that cannot be read or written: --json, --plots, --output ...
        text = f"cannot use {exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        print(f"error: {text}", file=sys.stderr)
        print("  check the path and its permissions (exit code 2)", file=sys.stderr)
        return 2


def _report(exc: DrypowderError) -> None:
    message = str(exc)
    print(f"error: {message.splitlines()[0] if message else type(exc).__name__}", file=sys.stderr)
    for line in message.splitlines()[1:]:
        print(f"  {line}", file=sys.stderr)
    print(f"  ({type(exc).__name__}, exit code {exc.exit_code})", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drypowder",
        description="Stock-flow-consistent models: run, inspect and check them.",
        epilog="Exit codes: 0 success, 2 bad input or usage, 3 solve failure, 4 accounting failure.",
    )
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")
    models = verbs.add_parser("models", help="list the shipped models and scenarios", description="List them.")
    models.set_defaults(command=_models)

    run = _verb(
        verbs,
        "run",
        _run,
        "run a model and print, save or plot its results",
        "Run a model (a shipped name such as 'sim', or a path to a .toml file) from its initial state, with its "
        "standard experiment unless --no-experiment is given, or a scenario file.",
        variables="variables to print and plot (default: the model's main ones)",
        solver=True,
    )
    run.add_argument(
        "--periods", type=_positive_int, help="number of periods after period 0 (default: the experiment's)"
    )
    run.add_argument("--no-experiment", action="store_true", help="run without the model's standard shocks")
    run.add_argument("--scenario", metavar="FILE", help="run a scenario (a file, or a shipped scenario's name)")
    run.add_argument("--csv", metavar="PATH", help="write every variable, every period, at full precision")
    run.add_argument("--plot", metavar="PATH.png", help="save a plot of the main variables")
    run.add_argument("--plot-net-lending", metavar="PATH.png", help="save a plot of sector net lending")
    run.add_argument(
        "--accounting-tol", type=float, default=1e-9, help="relative tolerance of the accounting checks (default 1e-9)"
    )

    comparison = _verb(
        verbs,
        "compare",
        _compare,
        "run a scenario beside its baseline: levels, differences, percent differences",
        "Run the baseline (the model's experiment) and a scenario on the same periods and show baseline, scenario, "
        "difference and percent difference for the chosen variables.",
        variables="variables to show (default: the main ones)",
        solver=True,
    )
    comparison.add_argument("--scenario", required=True, metavar="FILE", help="a scenario file or shipped name")
    comparison.add_argument("--csv", metavar="PATH", help="write every period: NAME_baseline, NAME_scenario, ...")
    comparison.add_argument("--plot", metavar="PATH.png", help="save a plot of baseline and scenario")

    mult = _verb(
        verbs,
        "multipliers",
        _multipliers,
        "impact, cumulative and long-run multipliers of an exogenous variable",
        "Step an exogenous variable up permanently from a period on, beside the same baseline without the step, "
        "and report the response per unit: on impact, cumulated over the horizon (sum of responses over sum of "
        "the step), and in the long run (from the two steady states).",
    )
    mult.add_argument("--of", required=True, metavar="NAME", help="the exogenous variable that steps up, e.g. G")
    mult.add_argument("--on", required=True, metavar="A,B,...", help="the variables whose response is measured")
    mult.add_argument("--horizon", type=_positive_int, default=20, help="periods of the dynamic response (default 20)")
    mult.add_argument("--start", type=_positive_int, default=1, help="first period of the step (default 1)")
    mult.add_argument("--size", type=float, help="size of the step (default: 1%% of the base value, or 1)")
    mult.add_argument("--with-experiment", action="store_true", help="measure against the experiment, not at rest")
    mult.add_argument("--csv", metavar="PATH", help="write the dynamic multipliers")
    mult.add_argument("--plot", metavar="PATH.png", help="save the impulse responses")

    steady = _verb(
        verbs,
        "steady",
        _steady,
        "the steady state, solved directly, with a stability verdict",
        "Solve the stationary equations (every lag equal to the current value) directly, pinned by the stock "
        "identities' starting values, and judge stability from the eigenvalues of the linearised period map.",
        variables="variables to show (default: every endogenous one)",
    )
    steady.add_argument(
        "--no-experiment", action="store_true", help="use base exogenous values, not the experiment's last"
    )

    sweep = _verb(
        verbs,
        "sweep",
        _sweep,
        "vary parameters or exogenous values over seeded draws or a grid, in one pass",
        "Solve many draws of a model at once (the batch axis) and save them as a labelled draw x period dataset "
        "(netCDF). Each --vary NAME=LOW:HIGH draws NAME uniformly (seeded), or on a grid with --grid. The model's "
        "experiment applies to every draw.",
        sets=False,
        variables="variables to summarise (default: the main ones)",
    )
    sweep.add_argument("--vary", action="append", required=True, metavar="NAME=LOW:HIGH", help="repeatable")
    sweep.add_argument("--draws", type=_positive_int, default=1000, help="draws (or grid points per name)")
    sweep.add_argument("--periods", type=_positive_int, help="periods (default: the experiment's)")
    sweep.add_argument("--seed", type=int, default=0, help="the same seed gives the same draws (default 0)")
    sweep.add_argument("--grid", action="store_true", help="an even grid instead of random draws")
    sweep.add_argument("--out", metavar="FILE.nc", help="save the dataset (netCDF)")
    sweep.add_argument("--fan", metavar="PATH.png", help="save a fan chart of the first variable")
    sweep.add_argument("--scheduler", help="'local' for a Dask LocalCluster, or a Dask scheduler address")
    sweep.add_argument(
        "--threads", type=_positive_int, help="machine-code threads in this process (default: every core)"
    )
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--keep-failures",
        action="store_true",
        help="keep going past draws that cannot be solved: they are named, counted and left out (NaN)",
    )

    check = _verb(
        verbs,
        "check",
        _check,
        "check the model's accounting: matrices against the equations, then a run",
        "Report which rows and columns of the balance sheet and transactions-flow matrix the equations imply, "
        "print the hidden (redundant) equation, then run the model's experiment and report the largest "
        "imbalance. Exit code 0 when consistent, 4 when not.",
        sets=False,
    )
    check.add_argument("--periods", type=_positive_int, help="periods to run (default: the experiment's)")
    check.add_argument("--tol", type=float, default=1e-9, help="relative tolerance of the run's checks (default 1e-9)")

    matrix = _verb(
        verbs,
        "matrix",
        _matrix,
        "show the balance sheet or transactions-flow matrix, with symbols or values",
        "Print a matrix as the book does: with symbols, or (with --period) with the values of that period of the "
        "model's experiment, with row and column sums.",
        sets=False,
    )
    matrix.add_argument("--which", choices=["balance_sheet", "transactions", "both"], default="both")
    matrix.add_argument("--period", type=int, help="show values of this period (0 = initial state)")
    matrix.add_argument("--format", choices=FORMATS, default="md")
    matrix.add_argument("--sankey", metavar="PATH.png", help="with --period: save a Sankey diagram of its flows")

    blocks = _verb(
        verbs,
        "blocks",
        _blocks,
        "print the solve order: blocks, their variables, simultaneous or not",
        "Print the order in which the equations are solved each period.",
        sets=False,
    )
    blocks.add_argument("--plot", metavar="PATH.png", help="save a drawing of the block graph")

    report = _verb(
        verbs,
        "report",
        _report_verb,
        "the DRYPOWDER report: multipliers, the switch to reverse QE, repricing, duration, net lending",
        "Run the DRYPOWDER model's experiments (about 15 runs to 2030Q4) beside a baseline -- the model's "
        "historical path, or --scenario -- and print the report's tables; --json writes the key figures, --plots "
        "saves the figures. Only for the DRYPOWDER model: 'drypowder report drypowder'.",
    )
    report.add_argument("--scenario", metavar="FILE", help="the baseline of every experiment (file or shipped name)")
    report.add_argument("--json", metavar="PATH", help="write the key figures as JSON")
    report.add_argument("--plots", metavar="DIR", help="save the report's plots (PNG) into this folder")
    return parser


def _verb(verbs, name, command, summary, description, *, sets=True, variables=None, solver=False):
    """A command that takes a model, with the options several commands share."""
    parser = verbs.add_parser(name, help=summary, description=description)
    parser.add_argument("model", help="shipped model name (see 'drypowder models') or path to a model file")
    if sets:
        parser.add_argument(
            "--set", action="append", default=[], metavar="NAME=VALUE", help="change a parameter or exogenous value"
        )
    if variables:
        parser.add_argument("--variables", metavar="A,B,...", help=variables)
    if solver:
        parser.add_argument("--method", choices=METHODS, default="newton", help="solver for simultaneous blocks")
        parser.add_argument("--tol", type=float, default=1e-10, help="relative residual tolerance (default 1e-10)")
        parser.add_argument(
            "--backend", choices=BACKENDS, default="auto", help="numba, numpy, or auto (numba if it pays)"
        )
    parser.set_defaults(command=command)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _models(args) -> int:
    group = None
    for model in shipped_models():
        heading = model.family + (f", chapter {model.chapter}" if model.chapter else "")
        if heading != group:
            group = heading
            print(f"{heading}:")
        print(f"  {model.name:<10} {model.description}")
    scenarios = shipped_scenarios()
    if scenarios:
        print("\nscenarios (drypowder compare MODEL --scenario NAME; copy the file to edit it):")
        for name, path in scenarios.items():
            print(f"  {name:<24} {path}")
    return 0


def _apply_sets(model: Model, settings: list[str]) -> None:
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name.strip():
            raise ModelError(f"--set expects NAME=VALUE, got {setting!r} (e.g. --set alpha1=0.7)")
        try:
            number = float(value)
        except ValueError:
            raise ModelError(f"--set {name.strip()}: {value!r} is not a number") from None
        model.set(**{name.strip(): number})


def _chosen_variables(model: Model, text: str | None) -> list[str]:
    if text:
        names = [name.strip() for name in text.split(",") if name.strip()]
        for name in names:
            if name not in model.spec.series:
                raise ModelError(f"--variables: {name!r} is not a variable of model {model.name}")
        return names
    return model.spec.main_variables or model.spec.endogenous[:6]


def _run(args) -> int:
    model = load(args.model)
    _apply_sets(model, args.set)
    spec = model.spec
    solver = dict(method=args.method, tolerance=args.tol, backend=args.backend)
    if args.scenario:
        scenario, _ = read_scenario(args.scenario, model)
        if args.no_experiment:
            scenario.experiment = False
        scenario.periods = args.periods or scenario.periods
        _, results = run_scenario(model, scenario, accounting_tolerance=args.accounting_tol, **solver)
        values = results[model.compiled.series].to_numpy()
        story = f"Scenario: {scenario.name}" + (f" -- {scenario.description}" if scenario.description else "")
    else:  # no DataFrame (so no pandas) unless --csv or a plot asks for one: a short run starts faster
        values, _ = model.run_values(
            args.periods, [] if args.no_experiment else None, accounting_tolerance=args.accounting_tol, **solver
        )
        results = None
        story = (
            f"Experiment: {spec.experiment.description}"
            if spec.experiment.description and not args.no_experiment
            else ""
        )
    variables = _chosen_variables(model, args.variables)
    print(f"{spec.name}: {spec.description}")
    if story:
        print(story)
    print()
    print(_table(model, values, variables))
    if results is None and (args.csv or args.plot or args.plot_net_lending):
        results = model.results(values)
    if args.csv:
        results.to_csv(args.csv, float_format="%.17g")
        print(f"\nwrote {len(results)} periods x {results.shape[1]} variables to {args.csv}")
    if args.plot:
        from .plot import plot_results

        title = f"{spec.name}: {story}" if story else spec.name
        plot_results(results, variables, textwrap.shorten(title, 110), spec.descriptions, args.plot)
        print(f"saved plot of {', '.join(variables)} to {args.plot}")
    if args.plot_net_lending:
        from .plot import plot_net_lending

        plot_net_lending(model.net_lending(results), f"{spec.name}: sector net lending", args.plot_net_lending)
        print(f"saved plot of sector net lending to {args.plot_net_lending}")
    return 0


def _rows(periods: int, around: int | None = None) -> list[int]:
    """Periods to print: all of a short run; else the first ten (or ten from ``around``), every tenth, the last."""
    if periods <= 20:
        return list(range(periods + 1))
    first = range(11) if around is None else range(max(0, around - 1), min(periods, around + 9) + 1)
    return sorted(set(first) | set(range(10, periods, max(10, periods // 10))) | {periods})


def _table(model: Model, values: np.ndarray, variables: list[str]) -> str:
    """The chosen variables in the chosen periods (with dates when the model has a calendar), laid out as
    pandas prints a frame, from the run's array: printing a run needs no DataFrame."""
    rows = _rows(len(values) - 1)
    columns = [model.compiled.series.index(name) for name in variables]
    cells = [[f"{values[t, c]:,.4f}" for c in columns] for t in rows]
    headers = list(variables)
    if model.spec.calendar is not None:
        dates = model.spec.calendar.labels(len(values) - 1)
        headers.insert(0, "date")
        for row, t in zip(cells, rows):
            row.insert(0, dates[t])
    index = [str(t) for t in rows]
    width = max(len("period"), *map(len, index))
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    lines = [" " * width + "".join(f"  {h:>{w}}" for h, w in zip(headers, widths))]
    lines.append("period".ljust(width + sum(w + 2 for w in widths)))
    lines += [
        label.ljust(width) + "".join(f"  {c:>{w}}" for c, w in zip(row, widths)) for label, row in zip(index, cells)
    ]
    return "\n".join(lines)


def _compare(args) -> int:
    model = load(args.model)
    _apply_sets(model, args.set)
    scenario, _ = read_scenario(args.scenario, model)
    baseline, changed = run_scenario(model, scenario, method=args.method, tolerance=args.tol, backend=args.backend)
    variables = _chosen_variables(model, args.variables)
    comparison = compare(baseline, changed, variables)
    print(
        f"{model.name}: scenario {scenario.name!r} against the baseline"
        + (f" -- {scenario.description}" if scenario.description else "")
    )
    first = scenario.first_period
    print(
        f"The scenario's first change is in period {first}; before it the two runs are identical.\n"
        if first
        else "The scenario changes nothing.\n"
    )
    rows = _rows(len(baseline) - 1, first)
    for name in variables:
        print(f"{name}" + (f": {model.spec.descriptions[name]}" if name in model.spec.descriptions else ""))
        table = comparison[name].loc[rows]
        print(table.to_string(float_format=lambda v: f"{v:,.4f}", na_rep="n/a"))
        print()
    if args.csv:
        flat = comparison.copy()
        flat.columns = [f"{name}_{what}" for name, what in flat.columns]
        flat.to_csv(args.csv, float_format="%.17g")
        print(f"wrote {len(flat)} periods x {flat.shape[1]} columns to {args.csv}")
    if args.plot:
        from .plot import plot_comparison

        plot_comparison(comparison, variables, first, f"{model.name}: {scenario.name}", args.plot)
        print(f"saved plot of {', '.join(variables)} to {args.plot}")
    return 0


def _multipliers(args) -> int:
    from .multipliers import multipliers

    model = load(args.model)
    _apply_sets(model, args.set)
    on = [name.strip() for name in args.on.split(",") if name.strip()]
    shocks = list(model.spec.experiment.shocks) if args.with_experiment else []
    result = multipliers(model, args.of, on, args.horizon, args.start, args.size, shocks)
    baseline = "the model's experiment" if args.with_experiment else "the model at rest (no experiment)"
    print(
        f"{model.name}: multipliers of a permanent step of {result.size:g} in {args.of} from period {args.start}, "
        f"against {baseline}\n"
    )
    print(result.table().to_string(float_format=lambda v: f"{v:,.6f}", na_rep="n/a (no steady state)"))
    print(f"\nDynamic multipliers: response per unit of {args.of}")
    print(result.response.loc[_rows(args.horizon - 1)].to_string(float_format=lambda v: f"{v:,.6f}"))
    if args.csv:
        result.response.to_csv(args.csv, float_format="%.17g")
        print(f"\nwrote {args.horizon} periods of dynamic multipliers to {args.csv}")
    if args.plot:
        from .plot import plot_response

        plot_response(result, f"{model.name}: response to a permanent step in {args.of}", args.plot)
        print(f"saved impulse responses to {args.plot}")
    return 0


def _steady(args) -> int:
    import pandas as pd

    from .steady import steady_state

    model = load(args.model)
    _apply_sets(model, args.set)
    shocks = [] if args.no_experiment else list(model.spec.experiment.shocks)
    _, paths, _ = model.inputs(model.spec.experiment.periods, shocks)
    exogenous = {name: float(paths[-1, i, 0]) for i, name in enumerate(model.exogenous)}
    result = steady_state(model, exogenous=exogenous)
    variables = _chosen_variables(model, args.variables) if args.variables else model.spec.endogenous
    given = ", ".join(f"{name} = {value:g}" for name, value in exogenous.items())
    when = "the base values" if args.no_experiment or not shocks else "the values the experiment ends with"
    print(f"{model.name}: steady state with {given} ({when}); largest relative residual {result.residual:.1e}\n")
    table = pd.DataFrame({"steady state": result.values[variables]})
    table["description"] = [model.spec.descriptions.get(name, "") for name in variables]
    print(table.to_string(float_format=lambda v: f"{v:,.6f}"))
    shown = ", ".join(f"{value:.6g}" for value in result.eigenvalues[:6])
    print(f"\nStability: {result.verdict}")
    print(f"Largest eigenvalues of the period map: {shown}")
    return 0


def _sweep_dataset(model: Model, vary: list, args):
    from .sweep import run_sweep

    return run_sweep(
        model,
        vary,
        args.draws,
        args.periods,
        args.seed,
        grid=args.grid,
        progress=not args.no_progress,
        scheduler=args.scheduler,
        on_failure="keep" if args.keep_failures else "raise",
        threads=args.threads,
    )


def _sweep(args) -> int:
    import pandas as pd

    from .sweep import Vary, save_sweep

    model = load(args.model)
    vary = []
    for text in args.vary:
        name, sep, bounds = text.partition("=")
        low, colon, high = bounds.partition(":")
        try:
            vary.append(Vary(name.strip(), float(low), float(high)))
        except ValueError:
            raise ModelError(
                f"--vary expects NAME=LOW:HIGH with numbers, got {text!r} (e.g. --vary alpha1=0.5:0.7)"
            ) from None
        if not sep or not colon:
            raise ModelError(f"--vary expects NAME=LOW:HIGH, got {text!r} (e.g. --vary alpha1=0.5:0.7)")
    variables = _chosen_variables(model, args.variables)
    with warnings.catch_warnings():  # the failed draws are printed below, not warned about
        warnings.filterwarnings("ignore", "[0-9]+ of [0-9]+ draws could not be solved", RuntimeWarning)
        dataset = _sweep_dataset(model, vary, args)
    runs = dataset.sizes["draw"]

    print(
        f"{model.name}: {runs} runs of {dataset.sizes['period'] - 1} periods, varying "
        f"{', '.join(f'{v.name} in [{v.low:g}, {v.high:g}]' for v in vary)}"
        f" ({'grid' if args.grid else f'uniform draws, seed {args.seed}'}); "
        f"largest relative accounting imbalance {dataset.attrs.get('max_relative_imbalance', float('nan')):.1e}\n"
    )
    failed = int(dataset.attrs.get("failed", 0))
    if failed:
        reasons = dataset.attrs.get("failures", [])
        reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        print(f"{failed} draw(s) could not be solved and are left out (NaN); the first:")
        for reason in reasons[:3]:
            print(f"  {reason}")
        print()
    last = dataset.isel(period=-1)
    quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]
    table = pd.DataFrame(
        {name: last[name].quantile(quantiles).to_numpy() for name in variables}, index=[f"{q:.0%}" for q in quantiles]
    ).T
    print(f"Distribution across runs in the last period ({int(last['period'])}):")
    print(table.to_string(float_format=lambda v: f"{v:,.4f}"))
    if args.out:
        path = save_sweep(dataset, args.out)
        print(f"\nsaved the dataset ({runs} draws x {dataset.sizes['period']} periods) to {path}")
    if args.fan:
        from .plot import plot_fan

        plot_fan(dataset, variables[0], path=args.fan)
        print(f"saved a fan chart of {variables[0]} to {args.fan}")
    return 0


def _check(args) -> int:
    model = load(args.model)
    if not model.spec.matrices:
        raise ModelError(
            f"model {model.name} declares no [balance_sheet] or [transactions] matrix, so there is nothing to "
            "check; see README.md, 'Accounting', for the format"
        )
    statuses = identities(model)
    print(f"{model.name}: accounting check")
    consistent = True
    labels = {
        "identity": "holds: implied by the equations",
        "stock identity": "holds if it held last period",
        "fails": "DOES NOT follow from the equations",
    }
    for status in statuses:
        mark = "  " if status.status != "fails" else "!!"
        extra = f"  ->  {status.equation}" if status.equation else ""
        if status.integrates:
            extra += f" (the equation for {status.integrates}, summed over time)"
        print(f"{mark} {status.check.label}: {labels[status.status]}{extra}")
        consistent &= status.status != "fails"
    hidden = hidden_equations(statuses)
    print()
    if hidden:
        for status in hidden:
            print(f"Hidden equation: {status.equation}   ({status.check.label})")
        print("  The equations leave it out; it holds because it held in the initial state, and every run checks it.")
    elif statuses:
        print("Hidden equation: none found (every identity is implied by the equations in each period)")
    try:
        results = model.run(periods=args.periods, accounting_tolerance=args.tol)
        report = model.check_accounting(results, args.tol)
    except AccountingError as exc:
        print(f"\nRun: {exc}")
        return 4
    largest = report.largest
    print(
        f"\nRun ({len(results) - 1} periods, the model's experiment): largest relative imbalance "
        f"{report.max_relative_imbalance:.2e}"
        + (f" ({largest.check.label}, period {largest.period})" if largest else "")
    )
    return 0 if consistent else 4


def _matrix(args) -> int:
    model = load(args.model)
    kinds = ["balance_sheet", "transactions"] if args.which == "both" else [args.which]
    missing = [kind for kind in kinds if kind not in model.spec.matrices]
    if missing and len(missing) == len(kinds):
        raise ModelError(f"model {model.name} declares no [{'] or ['.join(missing)}] matrix")
    values = None
    if args.period is not None:
        if args.period < 0:
            raise ModelError(f"--period must be 0 (the initial state) or later, got {args.period}")
        results = model.run(periods=max(args.period, model.spec.experiment.periods, 1))
        params = np.array([model.parameters[name] for name in model.compiled.parameters], dtype=float)
        values = results[model.compiled.series].to_numpy(dtype=float)
    if args.sankey:
        if values is None:
            raise ModelError("--sankey needs --period T: the diagram shows the flows of one period")
        from .plot import plot_flows

        title = f"{model.name}: transactions in period {args.period}"
        plot_flows(model.payments(results, args.period), title, args.sankey)
        print(f"saved Sankey diagram of period {args.period} to {args.sankey}\n")
    for kind in kinds:
        if kind not in model.spec.matrices:
            continue
        matrix = model.spec.matrices[kind]
        table = None if values is None else model.accounting.table(kind, values, params, args.period)
        when = "" if values is None else f", period {args.period}"
        print(render(matrix, table, args.format, f"{model.name}: {matrix.title}{when}"))
        print()
    return 0


def _report_verb(args) -> int:
    from .report import build_report, needs_compiling

    model = load(args.model)
    _apply_sets(model, args.set)
    if needs_compiling(model):
        print(
            f"(first report on this machine: compiling {model.name} to machine code once, which takes a while for a "
            "large model; later reports load it from the cache)",
            file=sys.stderr,
            flush=True,
        )
    report = build_report(model, args.scenario)
    print(report.text())
    if args.json:
        print(f"wrote the key figures to {report.write_json(args.json)}")
    if args.plots:
        paths = report.save_plots(args.plots)
        print(f"saved {len(paths)} plots to {args.plots}: {', '.join(path.name for path in paths)}")
    return 0


def _blocks(args) -> int:
    model = load(args.model)
    blocks = model.blocks
    simultaneous = sum(block.simultaneous for block in blocks)
    print(
        f"{model.name}: {len(model.spec.equations)} equations in {len(blocks)} blocks "
        f"({simultaneous} simultaneous), solved in this order each period:"
    )
    for number, block in enumerate(blocks, start=1):
        kind = f"simultaneous, {len(block.variables)} variables" if block.simultaneous else "recursive"
        print(f"  {number:>3}. [{kind}] {', '.join(block.variables)}")
    if args.plot:
        from .graph import dependency_graph
        from .plot import plot_blocks

        plot_blocks(dependency_graph(model.spec), blocks, f"{model.name}: blocks in solve order", args.plot)
        print(f"saved block graph to {args.plot}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
