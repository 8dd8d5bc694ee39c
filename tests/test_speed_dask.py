"""Repeated sweeps on one Dask client: each scatters its plan under a key of its own.

With the plan scattered under its content hash, two identical sweeps shared one key; the second one's
scatter raced with the first one's release of it, and its tasks failed with "lost dependencies".
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import drypowder
from drypowder.sweep import Vary, run_sweep


def test_identical_sweeps_in_a_row_on_one_client_all_succeed():
    distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed")
    pc = drypowder.load("pc")
    vary = [Vary("alpha1", 0.55, 0.65)]
    local = run_sweep(pc, vary, draws=40, periods=20, chunk=10, backend="numpy")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0", silence_logs=logging.ERROR
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for _ in range(6):
            remote = run_sweep(pc, vary, draws=40, periods=20, chunk=10, scheduler=client, backend="numpy")
            np.testing.assert_array_equal(remote["Y"].to_numpy(), local["Y"].to_numpy())
