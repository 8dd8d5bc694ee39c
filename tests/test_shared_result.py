"""The sweep's shared result: a worker's chunk lands in the client's array, and every failure falls back."""

from __future__ import annotations

import errno
import mmap
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
        shared.store(3, 7, None)
        np.testing.assert_array_equal(shared.array[:, :, 3:7], values[:, rows, :])
        assert np.all(shared.array[:, :, :3] == 0.0) and np.all(shared.array[:, :, 7:] == 0.0)
        assert shared.shared
    finally:
        shared.release()
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
        shared.release()


def test_a_chunk_in_another_memory_layout_is_written_by_value():
    shared = shared_result.create(SHAPE)
    try:
        values = np.asfortranarray(solved_chunk(10))
        assert shared_result.fill(shared.path, SHAPE, 0, values, [1, 2, 3])
        np.testing.assert_array_equal(shared.array, values[:, [1, 2, 3], :])
    finally:
        shared.release()


def test_no_shared_memory_or_no_room_gives_none_and_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setattr(shared_result, "ROOT", tmp_path / "missing")
    assert shared_result.create(SHAPE) is None
    monkeypatch.setattr(shared_result, "ROOT", tmp_path)
    real = os.statvfs(tmp_path)
    small = os.statvfs_result((real.f_bsize, 8, 100, 0, 11, *real[5:]))  # 11 free blocks of 8 bytes: 88 < 960
    with monkeypatch.context() as patch:
        patch.setattr(os, "statvfs", lambda path: small)
        assert shared_result.create(SHAPE) is None
    with monkeypatch.context() as patch:
        patch.setattr(os, "ftruncate", lambda *args: (_ for _ in ()).throw(OSError(errno.EFBIG, "File too large")))
        assert shared_result.create(SHAPE) is None
    assert list(tmp_path.iterdir()) == []
    shared = shared_result.create(SHAPE)  # room enough: the file takes no memory until written
    assert shared is not None and os.stat(shared.path).st_blocks == 0
    shared.release()


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
        shared.release()


def short_write(after: int):
    """An ``os.pwrite`` that writes ``after`` rows whole, then half of one (tmpfs filling up), then fails."""
    real, calls = os.pwrite, []

    def pwrite(descriptor, data, offset):
        calls.append(offset)
        if len(calls) <= after:
            return real(descriptor, data, offset)
        if len(calls) == after + 1:
            return real(descriptor, data.tobytes()[: data.nbytes // 2], offset)
        raise OSError(errno.ENOSPC, "No space left on device")

    return pwrite


def test_a_short_write_is_a_failed_write(monkeypatch):
    shared = shared_result.create(SHAPE)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(os, "pwrite", short_write(after=SHAPE[0] * SHAPE[1] - 1))  # the chunk's very last row
            assert not shared_result.fill(shared.path, SHAPE, 0, solved_chunk(2), [0, 1, 2])
    finally:
        shared.release()


def test_chunks_sent_back_go_into_the_file_until_it_is_full_then_all_into_private_memory(monkeypatch):
    """The client's own writes decide: while they fit, the result stays shared; the first that does not
    moves every chunk stored so far, and every later one, into private memory, with no value lost."""
    shared = shared_result.create(SHAPE)
    expected = np.full(SHAPE, np.nan)
    try:
        worker = solved_chunk(3)  # a worker's chunk, written by name
        assert shared_result.fill(shared.path, SHAPE, 0, worker, [0, 1, 2])
        shared.store(0, 3, None)
        expected[:, :, 0:3] = worker[:, :3, :]
        back = solved_chunk(2, series=3) * -1.0  # a chunk sent back: kept series only
        shared.store(3, 5, back)
        expected[:, :, 3:5] = back
        assert shared.shared
        with monkeypatch.context() as patch:
            patch.setattr(os, "pwrite", short_write(after=1))
            full = solved_chunk(3, series=3) + 1000.0
            shared.store(5, 8, full)
        expected[:, :, 5:8] = full
        assert not shared.shared
        late = solved_chunk(2) + 2000.0  # a worker that still found room writes its chunk into the file
        assert shared_result.fill(shared.path, SHAPE, 8, late, [4, 3, 2])
        shared.store(8, 10, None)
        expected[:, :, 8:10] = late[:, [4, 3, 2], :]
        result = shared.array
    finally:
        shared.release()
    assert not isinstance(result.base, mmap.mmap) and result.flags.owndata
    np.testing.assert_array_equal(result, expected)
