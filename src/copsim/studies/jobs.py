"""Many runs at once: one job per (scenario, seed), on local processes.

Every client that runs more than one simulation (``copsim compare``, sweeps, the
dashboard's comparison page) goes through :func:`run_jobs`. A job's result
depends only on the job (its scenario and seed), never on the worker or the
order of completion, so one worker and many give identical numbers. Workers
are recycled after a number of jobs so that finished models are freed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.context import BaseContext
from typing import Any

import numpy as np
import pandas as pd

from copsim.scenario.schema import Scenario
from copsim.engine.kernels import Engine

JOBS_PER_WORKER = 20  # recycle worker processes (Mesa keeps models alive via Agent._ids)


@dataclass(frozen=True)
class Job:
    """One simulation: a scenario, a seed, and a key that identifies it to the caller."""

    key: tuple[Any, ...]
    scenario: Scenario
    seed: int
    engine: Engine = "numba"
    track_rows: tuple[int, ...] | None = None  # see CopModel(track_rows=...)
    track_members_at: int | None = None


@dataclass
class JobResult:
    """What a job returns: its summary, weekly table and the end state of every firm."""

    job: Job
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    firms: pd.DataFrame
    tracked_rows: np.ndarray | None


def run_job(job: Job) -> JobResult:
    """Run one job in this process (no agent views: clients read arrays and tables) on one
    kernel thread: a pool of workers already keeps every core busy."""
    from copsim.engine.runner import simulate

    rows = None if job.track_rows is None else np.array(job.track_rows, dtype=np.int64)
    result = simulate(job.scenario, seed=job.seed, engine=job.engine, track_rows=rows, track_members_at=job.track_members_at)
    assert result.firms is not None  # simulate's default: clients compare firms across runs
    return JobResult(job, result.summary, result.timeseries, result.firms, result.tracked_rows)


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def run_jobs(jobs: Iterable[Job], workers: int | None = None,
             progress: Callable[[JobResult], None] | None = None,
             executor: Executor | None = None) -> Iterator[JobResult]:
    """Run jobs, yielding results as they complete (callers order them by key).

    ``workers=1`` runs in this process; otherwise a process pool is used, or the
    given ``executor`` (any ``concurrent.futures.Executor``, e.g. a Dask client's).
    """
    jobs = list(jobs)
    workers = default_workers() if workers is None else workers
    if executor is None and (workers <= 1 or len(jobs) <= 1):
        for job in jobs:
            result = run_job(job)
            if progress is not None:
                progress(result)
            yield result
        return
    own = executor is None
    pool = executor or LocalPool(workers)
    # A local pool gets as many jobs in flight as it has workers (as sweeps do): with
    # every job queued at once, Python 3.11's ProcessPoolExecutor stops replacing workers
    # recycled by max_tasks_per_child and hangs (CPython gh-115634).
    window = pool.workers if own else len(jobs)
    pending = deque(jobs)
    running: set[Future] = set()
    try:
        while pending or running:
            while pending and len(running) < window:
                running.add(pool.submit(run_job, pending.popleft()))
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                if progress is not None:
                    progress(result)
                yield result
    except BaseException:  # interrupted, or a job failed: nobody waits for the other runs
        if own:
            pool.stop()
        raise
    finally:
        if own:
            pool.shutdown()


class LocalPool:
    """A process pool that replaces itself when a worker dies (BrokenProcessPool).

    Workers are recycled after ``jobs.JOBS_PER_WORKER`` runs so that nothing a
    model leaves behind accumulates, and they stop when the parent process is
    gone (killed). They are forked from a fork server that imported this module
    and compiled the kernels once (:func:`warm_context`), so a new worker costs
    milliseconds rather than the seconds of a fresh interpreter.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.context = warm_context()
        self.pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self.context,
                                   max_tasks_per_child=JOBS_PER_WORKER,
                                   initializer=_exit_with, initargs=(os.getpid(),))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Submit to the pool, first replacing it if a worker died."""
        try:
            return self.pool.submit(fn, *args)
        except BrokenProcessPool:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new()
            return self.pool.submit(fn, *args)

    def shutdown(self) -> None:
        """Stop the workers (running jobs finish; queued ones are cancelled)."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Stop the workers now, running jobs included (on an interrupt or a failure).

        Without this the interpreter would wait at exit for the running jobs, which
        can take minutes. ``ProcessPoolExecutor`` has no public way before Python 3.14.

        A worker killed while it wrote its result leaves half a message in the result
        pipe, and the pool's manager thread would wait for the rest forever (and the
        interpreter's exit for that thread). So this process's write end of the pipe is
        closed too: once the killed workers' ends are gone, the manager reads end-of-file
        and winds the pool up.
        """
        processes = list(getattr(self.pool, "_processes", None) or {}).copy()
        results = getattr(self.pool, "_result_queue", None)
        self.pool.shutdown(wait=False, cancel_futures=True)
        for pid in processes:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if results is not None:
            results._writer.close()


_WARM = "COPSIM_WORKERS_FORKSERVER"


def warm_context() -> BaseContext:
    """The ``forkserver`` context, its server preloaded with this module and warmed.

    The variable ``COPSIM_WORKERS_FORKSERVER`` is set only while the server starts,
    so only the server's import of this module compiles the kernels (see the end
    of this module). A server already running is reused as it is.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    os.environ[_WARM] = "1"
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(_WARM, None)
    return context


def _exit_with(pid: int) -> None:
    """Pool initializer: end this worker soon after process ``pid`` (its parent) is gone."""
    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
    threading.Thread(target=watch, daemon=True, name="copsim-watch-parent").start()


if os.environ.get(_WARM) == "1":  # imported as the preload of the workers' fork server
    import copsim.engine.runner  # noqa: F401 - imported lazily by jobs.run_job (matplotlib: ~0.8 s)
    from copsim.engine.warmup import compile_kernels

    compile_kernels()
