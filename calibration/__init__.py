"""Calibration of the DRYPOWDER flagship model: the historical paths of its baseline, rebuilt from the facts.

``calibration.paths`` builds the paths that come straight from ``data/facts_used.csv`` (and the targets of
the back-outs); ``calibration.backout`` solves the backed-out paths on the model and checks or writes the
``[experiment]`` table. Run from the repository root: ``python -m calibration.backout --check``.
"""
