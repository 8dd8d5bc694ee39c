"""Calibration of the DRYPOWDER flagship model: the historical paths of its baseline, rebuilt from the facts.

``calibration.paths`` builds the paths that come straight from ``data/facts_used.csv`` (and the targets of
the back-outs); ``calibration.backout`` solves the backed-out paths on the model and checks or writes the
``[experiment]`` table. Run from the repository root: ``python -m calibration.backout --check``.

Installed as ``drypowder.calibration`` with its data, so that ``facts()`` works without the repository.
"""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# the facts the model uses; facts_added.csv holds two rows of the shared facts.csv that the baseline uses
# but that the selection of facts_used.csv missed (it matched series names, and these two were named
# only in words: "peak 2022-06-08", "capex_meta(_ppe_purchases)")
FACT_FILES = (DATA / "facts_used.csv", DATA / "facts_added.csv")


def facts(files=FACT_FILES):
    """The facts the model uses (a DataFrame: series, sector, date, value, unit, source, note), one row a fact."""
    import pandas as pd

    return pd.concat([pd.read_csv(path, dtype={"date": str}) for path in files], ignore_index=True)
