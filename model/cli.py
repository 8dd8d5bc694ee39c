"""The ``drypowder`` command: one verb per task, the same exit codes everywhere.

Exit codes: 0 success, 2 bad input (model file, scenario, usage), 3 solve failure, 4 accounting failure.
Errors go to stderr; the first line starts with ``error:``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

import numpy as np
import pandas as pd

from .accounting import hidden_equations, identities
from .display import FORMATS, render
from .errors import AccountingError, DrypowderError, ModelError
from .model import Model, load
from .shipped import shipped_models
from .solve import METHODS


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

    models = verbs.add_parser("models", help="list the shipped models", description="List the shipped models.")
    models.set_defaults(command=_models)

    run = verbs.add_parser(
        "run",
        help="run a model and print, save or plot its results",
        description="Run a model (a shipped name such as 'sim', or a path to a .toml file) from its initial "
        "state, with its standard experiment unless --no-experiment is given.",
    )
    run.add_argument("model", help="shipped model name (see 'drypowder models') or path to a model file")
    run.add_argument(
        "--periods", type=_positive_int, help="number of periods after period 0 (default: the experiment's)"
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a parameter or exogenous value (repeatable)",
    )
    run.add_argument(
        "--method", choices=METHODS, default="newton", help="solver for simultaneous blocks (default newton)"
    )
    run.add_argument("--tol", type=float, default=1e-10, help="relative residual tolerance (default 1e-10)")
    run.add_argument("--no-experiment", action="store_true", help="run without the model's standard shocks")
    run.add_argument("--csv", metavar="PATH", help="write every variable, every period, at full precision")
    run.add_argument("--plot", metavar="PATH.png", help="save a plot of the main variables")
    run.add_argument("--plot-net-lending", metavar="PATH.png", help="save a plot of sector net lending ")
    run.add_argument(
        "--variables", metavar="A,B,...", help="variables to print and plot (default: the model's main ones)"
    )
    run.set_defaults(command=_run)

    check = verbs.add_parser(
        "check",
        help="check the model's accounting: matrices against the equations, then a run",
        description="Report which rows and columns of the balance sheet and transactions-flow matrix the "
        "equations imply, print the hidden (redundant) equation, then run the model's experiment and report "
        "the largest imbalance. Exit code 0 when consistent, 4 when not.",
    )
    check.add_argument("model", help="shipped model name or path to a model file")
    check.add_argument("--periods", type=_positive_int, help="periods to run (default: the experiment's)")
    check.add_argument("--tol", type=float, default=1e-9, help="relative tolerance of the run's checks (default 1e-9)")
    check.set_defaults(command=_check)

    matrix = verbs.add_parser(
        "matrix",
        help="show the balance sheet or transactions-flow matrix, with symbols or a period's values",
        description="Print a matrix as the book does: with symbols, or (with --period) with the values of that "
        "period of the model's experiment, with row and column sums.",
    )
    matrix.add_argument("model", help="shipped model name or path to a model file")
    matrix.add_argument("--which", choices=["balance_sheet", "transactions", "both"], default="both")
    matrix.add_argument("--period", type=int, help="show values of this period (0 = initial state)")
    matrix.add_argument("--format", choices=FORMATS, default="md")
    matrix.add_argument("--sankey", metavar="PATH.png", help="with --period: save a Sankey diagram of its flows")
    matrix.set_defaults(command=_matrix)

    blocks = verbs.add_parser(
        "blocks",
        help="print the solve order: blocks, their variables, simultaneous or not",
        description="Print the order in which the equations are solved each period.",
    )
    blocks.add_argument("model", help="shipped model name or path to a model file")
    blocks.add_argument("--plot", metavar="PATH.png", help="save a drawing of the block graph")
    blocks.set_defaults(command=_blocks)
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
    family = None
    for model in shipped_models():
        if model.family != family:
            family = model.family
            print(f"{family}:")
        print(f"  {model.name:<10} {model.description}")
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
    results = model.run(
        periods=args.periods, shocks=[] if args.no_experiment else None, method=args.method, tolerance=args.tol
    )
    variables = _chosen_variables(model, args.variables)
    spec = model.spec
    print(f"{spec.name}: {spec.description}")
    if spec.experiment.description and not args.no_experiment:
        print(f"Experiment: {spec.experiment.description}")
    print()
    print(_table(results, variables))
    if args.csv:
        results.to_csv(args.csv, float_format="%.17g")
        print(f"\nwrote {len(results)} periods x {results.shape[1]} variables to {args.csv}")
    if args.plot:
        from .plot import plot_results

        title = f"{spec.name}: {spec.experiment.description}" if not args.no_experiment else spec.name
        plot_results(results, variables, textwrap.shorten(title, 110), spec.descriptions, args.plot)
        print(f"saved plot of {', '.join(variables)} to {args.plot}")
    if args.plot_net_lending:
        from .plot import plot_net_lending

        plot_net_lending(model.net_lending(results), f"{spec.name}: sector net lending", args.plot_net_lending)
        print(f"saved plot of sector net lending to {args.plot_net_lending}")
    return 0


def _table(results: pd.DataFrame, variables: list[str]) -> str:
    """Every period of a short run; for a long one, the first ten, every tenth, and the last."""
    periods = len(results) - 1
    if periods <= 20:
        rows = list(range(periods + 1))
    else:
        rows = sorted(set(range(11)) | set(range(10, periods, max(10, periods // 10))) | {periods})
    return results.loc[rows, variables].to_string(float_format=lambda v: f"{v:,.4f}")


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
