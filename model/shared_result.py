"""A sweep's result array in shared memory, which Dask workers on this machine fill in place.

Why. On a ``LocalCluster`` the client is a third process beside the workers, on the same cores. When
each worker sent its chunk back, the client spent about 0.45 s of CPU per PC sweep of 20,000 draws x
200 periods (193 MB kept) receiving the chunks and copying them into the result, against 1.5 s for
both workers together, so two workers could not be more than about 1.5x faster than one on two cores.
Written into shared memory instead, each chunk is stored once, by the worker that solved it, and the
client only waits.

How. The client makes a file under ``/dev/shm`` (tmpfs: memory, never written to disk), reserves its
memory with ``posix_fallocate`` and maps it; the result's arrays are views of that mapping.
Reserving first means that a full tmpfs shows here, where the sweep then falls back to sending
chunks, and never as a ``SIGBUS`` when the client copies a chunk a worker sent back into a page
tmpfs has no room for. A worker opens the file by its name, checks its size, writes its draws'
columns with ``pwrite`` and closes it. A worker that cannot find the file is on another machine (or
in another container) and sends its chunk back as before; so does one that may not write it (another
user's worker). After the sweep the client removes the name; the memory lives on in the mapping, as
any array's would, and the system frees it when the last view of the result is gone. Where there is
no ``/dev/shm`` (macOS, Windows) or no room in it, ``create`` returns None and every chunk travels
back. One difference from private memory: the mapping is shared, so a process forked after the sweep
shares the result's memory instead of copying it when either side writes to it.
"""

from __future__ import annotations

import mmap
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path("/dev/shm")
PREFIX = "drypowder-sweep-"
ITEM = np.dtype(np.float64).itemsize


@dataclass(frozen=True)
class SharedResult:
    """``array`` (float64, C order) is a view of the file at ``path``, which the workers open by name."""

    path: str
    array: np.ndarray


def create(shape: tuple[int, ...]) -> SharedResult | None:
    """A shared array of ``shape``, or None where this machine has no ``/dev/shm`` or not enough room in it."""
    size = ITEM * int(np.prod(shape))
    if size == 0 or not ROOT.is_dir():
        return None
    path = ROOT / f"{PREFIX}{uuid.uuid4().hex}"
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        os.posix_fallocate(descriptor, 0, size)
        mapping = mmap.mmap(descriptor, size)
    except OSError:  # ENOSPC: /dev/shm is full
        path.unlink(missing_ok=True)
        return None
    finally:
        os.close(descriptor)
    return SharedResult(str(path), np.frombuffer(mapping, dtype=np.float64).reshape(shape))


def release(result: SharedResult) -> None:
    """Remove the file's name (workers can no longer open it); the array stays valid."""
    Path(result.path).unlink(missing_ok=True)


def fill(path: str, shape: tuple[int, ...], start: int, values: np.ndarray, rows) -> bool:
    """In a worker: ``array[:, j, start:start + k] = values[:, rows[j], :]`` in the shared file at ``path``.

    False if it cannot: no such file on this machine (the worker is elsewhere), a file of another user,
    or a failed write. The worker then sends its chunk back instead.
    Each (period, series) row of the chunk is one ``pwrite`` into the file's memory, which
    ``posix_fallocate`` reserved: no page faults, unlike writing through a mapping of the file (PC's
    chunk of 2,000 draws x 200 periods x 6 series: 7-10 ms against 15-25 ms).
    """
    try:
        descriptor = os.open(path, os.O_WRONLY)
    except OSError:  # no such file on this machine, or a file this worker's user may not write
        return False
    try:
        if os.fstat(descriptor).st_size != ITEM * int(np.prod(shape)):
            return False  # not the file this sweep made: never write past its end
        values = np.ascontiguousarray(values)  # pwrite takes contiguous rows
        periods, width, runs = shape
        for period in range(periods):
            for j, row in enumerate(rows):
                os.pwrite(descriptor, values[period, row, :], ITEM * ((period * width + j) * runs + start))
    except OSError:  # the chunk travels back instead, and the client overwrites what was written
        return False
    finally:
        os.close(descriptor)
    return True
