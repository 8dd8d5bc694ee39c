"""A sweep's result array in shared memory, which Dask workers on this machine fill in place.

Why. On a ``LocalCluster`` the client is a third process beside the workers, on the same cores. When
each worker sent its chunk back, the client spent about 0.45 s of CPU per PC sweep of 20,000 draws x
200 periods (193 MB kept) receiving the chunks and copying them into the result, against 1.5 s for
both workers together, so two workers could not be more than about 1.5x faster than one on two cores.
Written into shared memory instead, each chunk is stored once, by the worker that solved it, and the
client only waits.

How. The client makes a file of the result's size under ``/dev/shm`` (tmpfs: memory, never written to
disk) and maps it; the result's arrays are views of that mapping. A worker opens the file by its
name, checks its size, writes its draws' columns with ``pwrite`` and closes it. A worker that cannot
find the file is on another machine (or in another container) and sends its chunk back; so does one
that may not write it (another user's worker), or finds no room left in tmpfs. The client writes a
chunk sent back with ``pwrite`` too, through the descriptor it keeps open.

Memory is taken page by page, by whoever writes the page first, and never reserved up front: a
``posix_fallocate`` of the whole file took 70-80 ms for PC's 193 MB, a serial step before any worker
could start (5% of the sweep, at every size), while the workers' own writes take their pages side by
side. Writing only with ``pwrite`` keeps a full tmpfs an ordinary error (``ENOSPC``), never a
``SIGBUS``: nothing touches a page of the mapping until every value of the result has been written.
If the client's write fails, the result moves to private memory (the chunks already in the file are
copied out of pages that were written, so hold memory) and the sweep goes on.

After the sweep the client removes the name and closes the file; the memory lives on in the mapping,
as any array's would, and the system frees it when the last view of the result is gone. Where there
is no ``/dev/shm`` (macOS, Windows) or it has too little room, ``create`` returns None and every chunk
travels back. One difference from private memory: the mapping is shared, so a process forked after
the sweep shares the result's memory instead of copying it when either side writes to it.
"""

from __future__ import annotations

import errno
import mmap
import os
import uuid
from pathlib import Path

import numpy as np

ROOT = Path("/dev/shm")
PREFIX = "drypowder-sweep-"
ITEM = np.dtype(np.float64).itemsize


class SharedResult:
    """The result ``[period, kept series, draw]`` of one sweep, chunk by chunk (a chunk: a range of draws).

    ``path`` is the file the workers open by name; ``array`` (float64, C order) is the whole result,
    to be read once every chunk is stored. ``shared`` says whether it is still the file's mapping.
    """

    def __init__(self, path: Path, descriptor: int, mapping: mmap.mmap, shape: tuple[int, ...]):
        self.path = str(path)
        self.shape = shape
        self._descriptor: int | None = descriptor
        self._mapped = np.frombuffer(mapping, dtype=np.float64).reshape(shape)
        self._private: np.ndarray | None = None
        self._in_file: list[tuple[int, int]] = []  # draw ranges written into the file so far

    @property
    def shared(self) -> bool:
        return self._private is None

    @property
    def array(self) -> np.ndarray:
        return self._mapped if self._private is None else self._private

    def store(self, start: int, stop: int, values: np.ndarray | None) -> None:
        """Draws ``start:stop``: None if a worker wrote them into the file; else a chunk that came back
        (``values[period, kept series, draw]``), which goes into the file, or else into private memory."""
        if self._private is None:
            if values is not None:
                try:
                    _write(self._descriptor, self.shape, start, values, range(self.shape[1]))
                except OSError:  # ENOSPC: tmpfs is full; this chunk, and every one before, go to private memory
                    self._go_private()
            if self._private is None:
                self._in_file.append((start, stop))
                return
        # private memory: a chunk sent back, or one a worker wrote into the file (its pages hold memory)
        self._private[:, :, start:stop] = self._mapped[:, :, start:stop] if values is None else values

    def _go_private(self) -> None:
        self._private = np.empty(self.shape)
        for start, stop in self._in_file:
            self._private[:, :, start:stop] = self._mapped[:, :, start:stop]
        self._in_file.clear()

    def release(self) -> None:
        """Remove the file's name (workers can no longer open it) and close it; ``array`` stays valid."""
        Path(self.path).unlink(missing_ok=True)
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def create(shape: tuple[int, ...]) -> SharedResult | None:
    """An empty shared result of ``shape``, or None where this machine has no ``/dev/shm`` or too little room.

    The room is only checked here (another process may take it before the workers write: then their
    chunks come back, and the client's own write decides, see ``SharedResult.store``).
    """
    size = ITEM * int(np.prod(shape))
    if size == 0 or not ROOT.is_dir():
        return None
    try:
        room = os.statvfs(ROOT)
        if room.f_bavail * room.f_frsize < size:
            return None
        path = ROOT / f"{PREFIX}{uuid.uuid4().hex}"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        os.ftruncate(descriptor, size)  # holes: no memory is taken until a page is written
        mapping = mmap.mmap(descriptor, size)
    except OSError:
        os.close(descriptor)
        path.unlink(missing_ok=True)
        return None
    return SharedResult(path, descriptor, mapping, shape)


def fill(path: str, shape: tuple[int, ...], start: int, values: np.ndarray, rows) -> bool:
    """In a worker: ``array[:, j, start:start + k] = values[:, rows[j], :]`` in the shared file at ``path``.

    False if it cannot: no such file on this machine (the worker is elsewhere), a file of another user,
    no room left in tmpfs, or any other failed write. The worker then sends its chunk back instead.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY)
    except OSError:  # no such file on this machine, or a file this worker's user may not write
        return False
    try:
        if os.fstat(descriptor).st_size != ITEM * int(np.prod(shape)):
            return False  # not the file this sweep made: never write past its end
        _write(descriptor, shape, start, values, rows)
    except OSError:  # the chunk travels back instead, and the client overwrites what was written
        return False
    finally:
        os.close(descriptor)
    return True


def _write(descriptor: int, shape: tuple[int, ...], start: int, values: np.ndarray, rows) -> None:
    """One ``pwrite`` per (period, series) row of the chunk: tmpfs takes the pages without page faults,
    and does not clear a page that a write covers whole, unlike writing through a mapping of the file
    (PC's chunk of 2,000 draws x 200 periods x 6 series: 7-10 ms against 15-25 ms)."""
    values = np.ascontiguousarray(values)  # pwrite takes contiguous rows
    periods, width, runs = shape
    for period in range(periods):
        for j, row in enumerate(rows):
            line = values[period, row, :]
            if os.pwrite(descriptor, line, ITEM * ((period * width + j) * runs + start)) != line.nbytes:
                raise OSError(errno.ENOSPC, "short write: no room left in shared memory")  # tmpfs fills mid-line
