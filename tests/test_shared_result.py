"""The sweep's shared result: a worker's chunk lands in the client's array, and every failure falls back."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from drypowder import shared_result

pytestmark = pytest.mark.skipif(not shared_result.ROOT.is_dir(), reason="this machine has no /dev/shm")

SHAPE = (4, 3, 10)  # periods + 1, kept series, draws


def solved_chunk(draws: int, series: int = 5) -> np.ndarray:
    """A worker's values[period, series, draw] with every number distinct."""
    return np.arange(SHAPE[0] * series * draws, dtype=float).reshape(SHAPE[0], series, draws) + 0.5


def test_a_chunk_written_by_name_appears_in_the_array_and_outlives_the_name():
    shared = shared_result.create(SHAPE)
    try:
        assert shared.array.shape == SHAPE and shared.array.dtype == np.float64
        assert np.all(shared.array == 0.0)
        values = solved_chunk(4)
        rows = [4, 0, 2]
        assert shared_result.fill(shared.path, SHAPE, 3, values, rows)
        np.testing.assert_array_equal(shared.array[:, :, 3:7], values[:, rows, :])
        assert np.all(shared.array[:, :, :3] == 0.0) and np.all(shared.array[:, :, 7:] == 0.0)
    finally:
        shared_result.release(shared)
    assert not os.path.exists(shared.path)
    np.testing.assert_array_equal(shared.array[:, :, 3:7], values[:, rows, :])  # still mapped
    # a worker elsewhere finds no such file, and says so instead of writing
    assert not shared_result.fill(shared.path, SHAPE, 0, solved_chunk(2), [0, 1, 2])


def test_a_file_of_another_size_is_never_written():
    shared = shared_result.create(SHAPE)
    try:
        assert not shared_result.fill(shared.path, (4, 3, 11), 0, solved_chunk(2), [0, 1, 2])
        assert np.all(shared.array == 0.0)
    finally:
        shared_result.release(shared)


def test_a_chunk_in_another_memory_layout_is_written_by_value():
    shared = shared_result.create(SHAPE)
    try:
        values = np.asfortranarray(solved_chunk(10))
        assert shared_result.fill(shared.path, SHAPE, 0, values, [1, 2, 3])
        np.testing.assert_array_equal(shared.array, values[:, [1, 2, 3], :])
    finally:
        shared_result.release(shared)


def test_no_shared_memory_or_no_room_gives_none_and_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setattr(shared_result, "ROOT", tmp_path / "missing")
    assert shared_result.create(SHAPE) is None
    monkeypatch.setattr(shared_result, "ROOT", tmp_path)

    def full(descriptor, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    assert shared_result.create(SHAPE) is None
    assert list(tmp_path.iterdir()) == []


def test_a_file_the_worker_may_not_open_or_write_sends_the_chunk_back(monkeypatch):
    shared = shared_result.create(SHAPE)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(os, "open", lambda *args: (_ for _ in ()).throw(PermissionError(errno.EACCES, "denied")))
            assert not shared_result.fill(shared.path, SHAPE, 0, solved_chunk(2), [0, 1, 2])
        with monkeypatch.context() as patch:
            patch.setattr(os, "pwrite", lambda *args: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
            assert not shared_result.fill(shared.path, SHAPE, 0, solved_chunk(2), [0, 1, 2])
        assert shared_result.fill(shared.path, SHAPE, 0, solved_chunk(2), [0, 1, 2])  # and it still opens
    finally:
        shared_result.release(shared)
