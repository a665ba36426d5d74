"""Row-wise kernels in chunks of rows, on several threads, with the same numbers on any number.

A kernel whose rows are independent (row ``i`` reads and writes row ``i`` only and
draws only row ``i``'s uniforms, like ``update_business``) gives the same result on
any split of its rows. :func:`run_in_chunks` runs it over ``CHUNK_ROWS`` rows at a
time: the calling thread draws each chunk's uniforms from the one stream in row
order (the same numbers as a single draw for every row: a generator fills an array
in order), and the compiled kernels, which release the GIL (``nogil``), run on a
pool of threads meanwhile. So 1, 2 or N threads give bit-identical results, and the
uniforms held at once are a few chunks, not one block per firm (64 bytes a firm at 8
uniforms: 1.5 GB at 23 million firms).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np

CHUNK_ROWS = 1 << 16  # 65,536 rows: 4 MiB of uniforms at 8 a row, in cache-friendly slices


def all_cores() -> int:
    """The cores this process may run on (the default of ``copsim run --threads``)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@cache
def thread_pool(workers: int) -> ThreadPoolExecutor:
    """One pool of kernel threads per size, shared by every model of the process."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="copsim-kernel")


def row_slice(columns: Any, start: int, stop: int) -> Any:
    """The rows ``start:stop`` of every column of a table's ``columns()`` (views, no copy)."""
    return type(columns)(*(col[start:stop] for col in columns))


def run_in_chunks(n: int, rng: np.random.Generator | None, width: int, threads: int,
                  kernel: Callable[[int, int, np.ndarray | None], None]) -> None:
    """Call ``kernel(start, stop, u)`` for consecutive chunks of rows ``0..n-1``, ``u`` the
    chunk's ``(stop - start, width)`` uniforms from ``rng`` in row order (None without
    ``rng``: a kernel that draws nothing).

    With ``threads > 1`` and more than one chunk the calls run on ``threads`` pool threads
    while this one draws the next chunks' uniforms (at most ``threads`` chunks in flight:
    drawing is the lighter part, and a kernel that draws nothing leaves this thread idle);
    otherwise here, in order (a single chunk gains nothing from a thread but the hand-off).
    """
    pool = thread_pool(threads) if threads > 1 and n > CHUNK_ROWS else None
    running: deque[Future] = deque()
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        u = rng.random((stop - start, width)) if rng is not None else None
        if pool is None:
            kernel(start, stop, u)
            continue
        if len(running) >= threads:
            running.popleft().result()
        running.append(pool.submit(kernel, start, stop, u))
    while running:
        running.popleft().result()
