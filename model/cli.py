"""The ``drypowder`` command: one verb per task, the same exit codes everywhere.

Exit codes: 0 success, 2 bad input (model file, scenario, usage), 3 solve failure, 4 accounting failure.
Errors go to stderr; the first line starts with ``error:``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

import pandas as pd

from .errors import DrypowderError, ModelError
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
    run.add_argument(
        "--variables", metavar="A,B,...", help="variables to print and plot (default: the model's main ones)"
    )
    run.set_defaults(command=_run)

    blocks = verbs.add_parser(
        "blocks",
        help="print the solve order: blocks, their variables, simultaneous or not",
        description="Print the order in which the equations are solved each period.",
    )
    blocks.add_argument("model", help="shipped model name or path to a model file")
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
    return 0


def _table(results: pd.DataFrame, variables: list[str]) -> str:
    """Every period of a short run; for a long one, the first ten, every tenth, and the last."""
    periods = len(results) - 1
    if periods <= 20:
        rows = list(range(periods + 1))
    else:
        rows = sorted(set(range(11)) | set(range(10, periods, max(10, periods // 10))) | {periods})
    return results.loc[rows, variables].to_string(float_format=lambda v: f"{v:,.4f}")


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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
