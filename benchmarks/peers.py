"""drypowder beside pysolve on the book's models, in one process: seconds, ratio, largest difference.

Run on demand (not a test): ``python benchmarks/peers.py [--periods N] [--repeat R]``. Each tool solves
the same model file's default experiment; pysolve uses Newton with a tight stopping test (its default
has an absolute tolerance of 1e-4), and compilation is timed separately from the run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import drypowder
from drypowder.pysolve_bridge import run_pysolve


def best_of(repeat: int, function):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default="sim,pc,lp")
    args = parser.parse_args()
    print(f"{args.periods} periods, best of {args.repeat}; pysolve: Newton-Raphson, until |change| < 1e-13")
    header = (
        f"{'model':<6} {'eqs':>4} {'compile s':>10} {'drypowder s':>12} {'pysolve s':>10} {'ratio':>7} "
        f"{'max rel diff':>13}"
    )
    print(header)
    print("-" * len(header))
    for name in args.models.split(","):
        model = drypowder.load(name)
        compile_time, _ = best_of(1, lambda model=model: model.compiled)
        ours_time, ours = best_of(args.repeat, lambda model=model: model.run(periods=args.periods))
        peer_time, peer = best_of(args.repeat, lambda model=model: run_pysolve(model, args.periods))
        diff = float(np.max(np.abs(ours.to_numpy() - peer.to_numpy()) / np.maximum(1, np.abs(peer.to_numpy()))))
        print(
            f"{name:<6} {len(model.spec.equations):>4} {compile_time:>10.3f} {ours_time:>12.4f} "
            f"{peer_time:>10.4f} {peer_time / ours_time:>6.1f}x {diff:>13.2e}"
        )


if __name__ == "__main__":
    main()
