"""How well each equation holds in a set of results: an independent check on any solve.

The compiled block functions are reused with the periods as the batch axis, so checking a whole run
costs one evaluation per block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import Model


def equation_residuals(model: Model, results: pd.DataFrame, relative: bool = True) -> pd.DataFrame:
    """``x - g(...)`` for every equation ``x = g(...)`` and period 1..T (period 0 is the given start).

    Relative residuals divide by ``max(1, |x|, |g|)``, so a value of 1e-9 means nine correct digits for
    large variables and an absolute 1e-9 for small ones.
    """
    compiled = model.compiled
    values = results[compiled.series].to_numpy(dtype=float)  # (periods + 1, series)
    pad = compiled.max_lag
    history = np.concatenate([np.repeat(values[:1], pad, axis=0), values])
    rows = np.arange(pad + 1, len(history))
    params = [float(model.parameters[name]) for name in compiled.parameters]
    out = {}
    for block in compiled.blocks:
        own = history[rows][:, block.targets].T
        inputs = history[rows[None, :] - block.input_lags[:, None], block.input_series[:, None]]
        p = [params[i] for i in block.parameter_index]
        with np.errstate(all="ignore"):
            rhs = block.values(*own, *inputs, *p)
        for name, x, g in zip(block.block.variables, own, rhs):
            g = np.broadcast_to(g, x.shape)
            residual = x - g
            if relative:
                residual = residual / np.maximum(1.0, np.maximum(np.abs(x), np.abs(g)))
            out[name] = residual
    frame = pd.DataFrame(out, index=results.index[1:])[model.spec.endogenous]
    return frame
