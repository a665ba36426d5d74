"""Row-wise kernels in chunks of rows, on several threads, with the same numbers on any number.

A kernel whose rows are independent (row ``i`` reads and writes row ``i`` only and
draws only row ``i``'s uniforms, like ``update_business``) gives the same result on
any split of its rows. :func:`run_in_chunks` runs it over ``CHUNK_ROWS`` rows at a
time on a pool of threads (the compiled kernels release the GIL: ``nogil``). Chunk
``k`` draws its uniforms, in row order, from its own stream: the week's stream jumped
``k`` times (:func:`jumped`; chunk 0 is the stream itself, so a run of at most
``CHUNK_ROWS`` firms draws exactly what one block of uniforms would). A row's uniforms
therefore depend on its row only, never on the number of threads, and each thread draws
its own chunk's: the uniforms held at once are a few chunks, not one block per firm (64
bytes a firm at 8 uniforms: 1.5 GB at 23 million firms).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

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


PCG64_JUMP = 0x9E3779B97F4A7C15F39CC0605CEDC835  # PCG64.jumped's step: (golden ratio - 1) * 2**128


def jumped(rng: np.random.Generator, k: int) -> np.random.Generator:
    """Stream ``k`` of ``rng``: ``rng`` itself for 0, else a generator on ``rng``'s bit
    generator jumped ``k`` times from its state now (streams 2**127 draws apart)."""
    return rng if k == 0 else np.random.Generator(rng.bit_generator.jumped(k))


def jump_into(target: np.random.Generator, rng: np.random.Generator, k: int) -> np.random.Generator:
    """Make ``target`` (a PCG64 generator) stream ``k`` of ``rng``: the numbers of
    ``jumped(rng, k)`` in a generator that already exists, because numba takes a generator
    it has seen before about three times faster than a new one (7 against 20 µs a call)."""
    bits = target.bit_generator
    bits.state = rng.bit_generator.state
    bits.advance((k * PCG64_JUMP) % (1 << 128))
    return target


def run_tasks(tasks: Sequence[Callable[[], T]], threads: int) -> list[T]:
    """Run ``tasks`` (independent of one another) on ``threads`` pool threads, or here in
    order with one thread or one task; their results in task order (a task's error is
    raised here)."""
    if threads > 1 and len(tasks) > 1:
        return [future.result() for future in [thread_pool(threads).submit(task) for task in tasks]]
    return [task() for task in tasks]


Jump = Callable[[np.random.Generator, int], np.random.Generator]


def run_in_chunks(n: int, rng: np.random.Generator | None, width: int, threads: int,
                  kernel: Callable[[int, int, np.ndarray | None], T],
                  jump: Jump = jumped) -> list[T]:
    """Call ``kernel(start, stop, u)`` for consecutive chunks of rows ``0..n-1``, ``u`` the
    chunk's ``(stop - start, width)`` uniforms from stream ``k`` of ``rng`` for chunk ``k``
    (``jump(rng, k)``: :func:`jumped`, or the model's
    :meth:`~copsim.engine.rng.Streams.jumped`, which reuses its generators; None without
    ``rng``: a kernel that draws nothing). Chunks run on ``threads`` threads
    (:func:`run_tasks`), each drawing its own uniforms; returns what the calls return, in
    row order.
    """
    streams = [None if rng is None else jump(rng, k) for k in range(-(-n // CHUNK_ROWS))]

    def chunk(k: int) -> Callable[[], T]:
        start, stop = k * CHUNK_ROWS, min(n, (k + 1) * CHUNK_ROWS)
        stream = streams[k]
        return lambda: kernel(start, stop,
                              None if stream is None else stream.random((stop - start, width)))

    return run_tasks([chunk(k) for k in range(len(streams))], threads)


def chunked_uniforms(n: int, rng: np.random.Generator, threads: int,
                     jump: Jump = jumped) -> np.ndarray:
    """``n`` uniforms on [0, 1), row ``i``'s drawn by its chunk as in :func:`run_in_chunks`
    (one draw of ``n`` from ``rng`` when ``n`` fits in one chunk)."""
    u = np.empty(n)

    def fill(start: int, stop: int, drawn: np.ndarray | None) -> None:
        u[start:stop] = drawn[:, 0]

    run_in_chunks(n, rng, 1, threads, fill, jump)
    return u
